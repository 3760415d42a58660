/// @file
/// @brief Lab 01 contract: UTS, PID, mount and IPC namespaces with clone(2).
///
/// The parent clones the child into new namespaces; the child blocks on a sync pipe
/// until the parent has finished preparing it (cgroups from lab 03 on), then sets up
/// its view of the system and execs CMD, which becomes PID 1 of its PID namespace.
///
/// Implemented in `labs/01-namespaces/` (student) and `solutions/01-namespaces/`.
/// Man pages: clone(2), namespaces(7), pid_namespaces(7), uts_namespaces(7),
/// mount_namespaces(7), sethostname(2), execve(2), proc(5).
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "mydocker/unique_fd.hpp"

namespace mydocker::ns {

/// The longest hostname the kernel accepts (HOST_NAME_MAX, see sethostname(2)).
inline constexpr std::size_t kMaxHostnameLength = 64;

/// Checks a `--hostname`: 1 to 64 characters, letters, digits, '-' and '.', not
/// starting or ending with '-' or '.' (RFC 1123 labels).
/// @throws UsageError naming the hostname and what is wrong with it
void validateHostname(std::string_view name);

/// The clone(2) flags of a container: new UTS, PID, mount and IPC namespaces.
int containerCloneFlags();

/// A cloned child waiting at its sync point.
struct Child {
    pid_t pid = -1;      ///< the child's pid, as the parent sees it
    UniqueFd syncWrite;  ///< parent's end of the sync pipe: writing to it releases the child
};

/// Clones a child into the namespaces in `flags` (plus SIGCHLD, so the parent can wait).
/// The child first blocks until the parent calls release(), then runs `body` and exits
/// with what it returns. If the parent dies or closes the pipe without releasing,
/// the child exits without running `body`.
/// @throws SysError if pipe(2) or clone(2) fails
Child spawnChild(int flags, const std::function<int()>& body);

/// Lets a child made by spawnChild go on and run its body.
/// @throws SysError if the write fails (the child died)
void release(Child& child);

/// Child side, without `--rootfs`: makes every mount private (so nothing leaks back to
/// the host) and mounts a fresh procfs on /proc showing only this PID namespace.
/// @throws SysError naming the failed mount(2)
void remountProc();

/// Child side: sets the hostname of the new UTS namespace.
/// @throws SysError if sethostname(2) fails
void setHostname(std::string_view name);

/// Child side: replaces this process with `argv` (looked up in the PATH of `env`),
/// with environment `env`. Returns only by throwing.
/// @throws ExecError with exit code 127 when the command is not found,
///         126 when it exists but cannot be executed
[[noreturn]] void execCommand(const std::vector<std::string>& argv,
                              const std::vector<std::string>& env);

}  // namespace mydocker::ns
