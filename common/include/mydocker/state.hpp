/// @file
/// @brief A container's recorded state: `<root>/containers/<id>/state.json`.
///
/// Written when a container is created, when CMD starts and when it ends, so that
/// `ps -a` and `inspect` (lab 10) can tell what happened to it, an OOM kill included.
/// The file is JSON (nlohmann-json) with a format version; it is written to a temporary
/// file and renamed, so a reader sees the old record or the new one, never half of one.
///
/// A pid alone does not name a process for long: once the container ends, the kernel
/// may give its pid to another process. The record keeps the process's start time
/// (field 22 of `/proc/PID/stat`) beside it; a later command checks both before it
/// signals or joins the process (runc does the same).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace mydocker {

/// The version of state.json this runtime writes and reads.
inline constexpr int kStateVersion = 1;

/// A volume mounted in a container (lab 09), as its record keeps it: lab 08's commit
/// leaves out what is mounted there, `volume rm` says who holds a volume.
struct VolumeRecord {
    std::string name;       ///< the named volume, "" for a host path
    std::string source;     ///< the host directory or file mounted
    std::string target;     ///< the path in the container, as given to -v
    bool readOnly = false;  ///< mounted read-only

    /// Equal when every field is (for tests).
    bool operator==(const VolumeRecord&) const = default;
};

/// What the runtime records about one container.
struct ContainerState {
    std::string id;                      ///< the full id, 64 hex digits
    std::string hostname;                ///< its hostname
    std::string rootfs;                  ///< its root directory, empty for the host's
    std::string image;                   ///< the image it runs (lab 05), "" without one
    std::vector<std::string> command;    ///< CMD and arguments
    std::string status = "created";      ///< created, running or exited
    pid_t pid = 0;                       ///< its PID 1, as the host sees it (0: none yet)
    std::uint64_t pidStartTime = 0;      ///< that process's start time, in clock ticks after boot
    pid_t monitorPid = 0;                ///< the process that will tear it down (the runtime,
                                         ///< or lab 10's monitor): if it dies, nobody will
    std::uint64_t monitorStartTime = 0;  ///< that process's start time
    int exitCode = 0;                    ///< valid once exited
    bool oomKilled = false;              ///< the kernel's OOM killer killed one of its processes
    std::string createdAt;               ///< RFC 3339, UTC
    std::string startedAt;               ///< when CMD started; empty before
    std::string finishedAt;              ///< when CMD ended; empty before
    /// The paths in the container where the runtime mounts something of its own
    /// (`/etc/hosts`, `/etc/resolv.conf`, lab 06; volumes' targets, lab 09): what a
    /// commit leaves out of the new layer (lab 08). Absolute, as the container sees them.
    std::vector<std::string> mountPoints;
    std::vector<VolumeRecord> volumes;  ///< its volumes (lab 09), in the order mounted
    // Lab 10: what `ps`, `inspect`, `exec` and `rm` need to know of it. A record written
    // before lab 10 has none of these: they read as their defaults.
    std::string name;              ///< --name, unique under a root ("" before lab 10)
    std::vector<std::string> env;  ///< CMD's environment, KEY=VALUE, as it was given
    std::string workingDir;        ///< CMD's working directory ("" = /)
    bool detached = false;         ///< run -d: a monitor process holds it
    bool autoRemove = false;       ///< --rm: the record goes when it exits
    std::int64_t memoryBytes = 0;  ///< -m in bytes, 0 = no limit
    std::int64_t nanoCpus = 0;     ///< --cpus in billionths of a CPU, 0 = no limit
    std::string network;           ///< --net as given ("" before lab 06)
    std::string ipAddress;         ///< its address on the network, "" without one
    std::string gateway;           ///< the network's gateway, "" without one
    /// The published ports (lab 07), as checked from -p: "[HOSTIP:]HOSTPORT:CTRPORT/PROTO"
    /// (PortMapping::str()), for `ps` and `inspect`.
    std::vector<std::string> ports;

    /// Equal when every field is (for tests).
    bool operator==(const ContainerState&) const = default;
};

/// The directory holding container `id`'s files under `root`.
std::string containerDir(const std::string& root, const std::string& id);

/// The state file of container `id` under `root`.
std::string statePath(const std::string& root, const std::string& id);

/// Renders a state as the JSON saveState writes (with the format version).
std::string toJson(const ContainerState& state);

/// Parses what toJson wrote.
/// @param json the text of a state file
/// @param where names the file in the error
/// @throws Error `corrupt state file <where> (<why>)` if it is not JSON, lacks a field,
///         has a field of the wrong type, or is of another format version
ContainerState fromJson(const std::string& json, const std::string& where = "state.json");

/// Writes state.json into containerDir, atomically (a temporary file, then rename).
/// @throws SysError if the file cannot be written
void saveState(const std::string& root, const ContainerState& state);

/// Reads container `id`'s state.json.
/// @throws SysError if it cannot be read; Error if it is corrupt (see fromJson)
ContainerState loadState(const std::string& root, const std::string& id);

/// Marks container `id` live: it has a process, or is being started. Every command sweeps
/// the live containers whose monitor is gone; the index `<root>/live/<id>` (an empty file
/// per container) spares it reading every record ever kept.
/// @throws SysError if the file cannot be made
void markLive(const std::string& root, const std::string& id);

/// Container `id` is no longer live (it exited, or never started); `<root>/live/` goes
/// with its last entry. Safe to call twice.
/// @throws SysError if the file cannot be removed
void unmarkLive(const std::string& root, const std::string& id);

/// The ids of the live containers under `root` (none if there is no index).
std::vector<std::string> liveContainers(const std::string& root);

/// Removes the record of container `id` (its directory, which must hold nothing mounted),
/// then `<root>/containers/` if it was the last one.
/// @throws SysError naming what could not be removed
void removeRecord(const std::string& root, const std::string& id);

/// True when process `pid` exists and started at `startTime` (processStartTime()): the
/// same process, not another that was given its pid since.
bool processIsAlive(pid_t pid, std::uint64_t startTime);

/// The current time as RFC 3339 in UTC, with nanoseconds ("2026-11-24T10:00:00.123456789Z").
std::string nowRfc3339();

/// A new random container id: 64 hex digits, as Docker's.
std::string newContainerId();

}  // namespace mydocker
