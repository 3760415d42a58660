// Lab 10 in the driver (given code): the containers under a root as the verbs see them.
// Naming one (id, unique prefix or name), names and their lock, whether one runs, a pidfd
// that names its process for sure, its log, and the cgroups exec joins.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "mydocker/state.hpp"
#include "mydocker/unique_fd.hpp"

namespace mydocker::driver {

/// Every container recorded under `root`, the newest first (as `docker ps` lists them).
/// A record that cannot be read is skipped with a warning.
std::vector<ContainerState> allContainers(const std::string& root);

/// The container `ref` names: its full id, a unique prefix of it, or its name.
/// @throws UsageError `no such container: "REF"`, or `... is ambiguous` for a prefix of
///         several ids
ContainerState resolveContainer(const std::string& root, const std::string& ref);

/// Checks a --name by Docker's rule `[a-zA-Z0-9][a-zA-Z0-9_.-]+`.
/// @throws UsageError naming the name and the rule
void validateName(const std::string& name);

/// Writes `state` as a new record, after checking under the names' lock (flock(2) of
/// `root` itself, so the lock leaves no file) that no other record has its name.
/// @throws UsageError `the name "web" is already in use by container <short id>`
void saveNewRecord(const std::string& root, const ContainerState& state);

/// True when the record says running and its PID 1 is the process it recorded.
bool isRunning(const ContainerState& state);

/// A published port of a record (ContainerState::ports), in its parts.
struct PublishedPort {
    std::string hostIp;         ///< "" for every address
    std::string hostPort;       ///< "8080"
    std::string containerPort;  ///< "80/tcp": Docker's key
};
/// Splits "[HOSTIP:]HOSTPORT:CTRPORT/PROTO" as the record keeps it.
PublishedPort splitPublishedPort(const std::string& port);

/// A pidfd of `pid`, if that is still the process that started at `startTime` (the pidfd
/// is taken first, then the start time checked: a pid reused in between is caught).
std::optional<UniqueFd> openPidfd(pid_t pid, std::uint64_t startTime);

/// Waits until the process that holds the container's teardown (its monitor, or the
/// foreground runtime) has exited, so its record is final; at most `timeout`.
/// @return the record as it then is, or nothing if it was removed (--rm)
std::optional<ContainerState> waitForMonitor(const std::string& root, const ContainerState& state,
                                             std::chrono::milliseconds timeout);

/// Stops a container as `stop` does (stop.cpp): runtime::stopProcess() on its PID 1 if it
/// runs, then waitForMonitor(). A container that does not run is left as it is.
void stopContainer(const std::string& root, const ContainerState& state,
                   std::chrono::milliseconds grace);

/// The container's log: `<root>/containers/<id>/<id>-json.log`.
std::string logPath(const std::string& root, const std::string& id);

/// The `cgroup.procs` file of each cgroup hierarchy process `pid` is in, as this process
/// (in the host's cgroup namespace) reaches it: what exec joins.
/// @throws SysError if /proc/PID/cgroup or the mount table cannot be read
std::vector<std::string> cgroupProcsFilesOf(pid_t pid);

/// Parses a Docker-style duration in whole seconds: `stop -t 5`.
/// @throws UsageError for a negative or non-numeric value
int parseSeconds(const std::string& text, const std::string& flag);

}  // namespace mydocker::driver
