/// @file
/// @brief A container's recorded state: `<root>/containers/<id>/state.json`.
///
/// Written when a container starts and again when it ends, so that `ps -a` and
/// `inspect` (lab 10) can tell what happened to it, an OOM kill included.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace mydocker {

/// What the runtime records about one container.
struct ContainerState {
    std::string id;                    ///< the full id
    std::string hostname;              ///< its hostname
    std::string rootfs;                ///< its root directory, empty for the host's
    std::vector<std::string> command;  ///< CMD and arguments
    std::string status = "created";    ///< created, running or exited
    pid_t pid = 0;                     ///< the init process, as the host sees it
    int exitCode = 0;                  ///< valid once exited
    bool oomKilled = false;            ///< the kernel's OOM killer ended it
    std::string createdAt;             ///< RFC 3339, UTC
};

/// The directory holding container `id`'s files under `root`.
std::string containerDir(const std::string& root, const std::string& id);

/// Writes state.json into containerDir (atomically).
void saveState(const std::string& root, const ContainerState& state);

/// Renders a state as the JSON saveState writes.
std::string toJson(const ContainerState& state);

/// The current time as RFC 3339 in UTC ("2026-11-24T10:00:00Z").
std::string nowRfc3339();

/// A new random container id: 64 hex digits, as Docker's.
std::string newContainerId();

}  // namespace mydocker
