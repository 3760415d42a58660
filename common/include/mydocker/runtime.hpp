/// @file
/// @brief Lab 10 contract: the complete runtime. Detached containers with a monitor,
/// their log, `exec` through setns(2), `stop`, and Docker's default hardening.
///
/// - **The monitor** (conmon's and containerd-shim's role): `run -d` forks it in a session
///   of its own (a double fork, so it is nobody's child and no terminal's); it runs the
///   start pipeline, so it is the parent of the container's PID 1; it pumps the
///   container's stdout and stderr into the log, waits for PID 1, records its exit and
///   executes the teardown. The command line tool returns as soon as CMD runs.
/// - **The log**: Docker's json-file format, one JSON object per line:
///   `{"log":"hello\n","stream":"stdout","time":"2026-11-24T10:00:00.123456789Z"}`.
/// - **exec**: a new process in every namespace of a running container, in its cgroup,
///   with its environment, capabilities and seccomp filter.
/// - **stop**: SIGTERM, then SIGKILL once the grace period is over, through a pidfd so
///   that a pid reused by another process is never signalled.
/// - **hardening**: Docker's default capabilities (without CAP_MKNOD, see below), its
///   masked and read-only paths, its seccomp denials (given: seccomp.hpp).
///
/// Implemented in `labs/10-run/` (student) and `solutions/10-run/`.
/// Man pages: setsid(2), fork(2), pipe(7), poll(2), setns(2), pidfd_open(2),
/// pidfd_send_signal(2), capabilities(7), prctl(2), capset(2), mount(2), proc(5).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "mydocker/unique_fd.hpp"

namespace mydocker::runtime {

// --- the monitor (monitor.cpp) ----------------------------------------------------------

/// Starts the monitor of a detached container and returns at once in the caller.
///
/// The monitor is a grandchild: the caller forks a child, the child calls setsid(2) (a
/// session and process group of its own: a signal to the caller's group, a hangup of its
/// terminal never reach it) and forks the monitor, then exits; the caller reaps that child,
/// so the monitor is an orphan that init (or the nearest subreaper) adopts. In the monitor,
/// fds 0, 1 and 2 become /dev/null (it must not hold the caller's terminal or pipes open:
/// `id=$(lab10 run -d ...)` returns only once every writer of the pipe is gone), then
/// `monitorMain` runs with the write end of the report pipe, and the monitor exits with
/// what it returns.
///
/// @param monitorMain the monitor's work (the start pipeline, then supervise()); it
///        writes its report (success, or the error of the start) to the fd it is given
/// @return the read end of the report pipe: EOF once the monitor has reported (or died)
/// @throws SysError if pipe(2), fork(2) or waitpid(2) fails in the caller
UniqueFd startMonitor(const std::function<int(UniqueFd report)>& monitorMain);

/// Which of the container's outputs a log line came from.
enum class Stream { stdout, stderr };

/// One line of the log in Docker's json-file format, with its newline:
/// `{"log":"<text>","stream":"stdout","time":"<time>"}\n` (given, log_file.cpp).
/// `text` is the line as the container wrote it, its `\n` included (a last line without
/// one keeps none); JSON escaping is nlohmann-json's.
std::string formatLogEntry(Stream stream, std::string_view text, const std::string& time);

/// Splits what a container writes into lines and appends each to the log, as
/// formatLogEntry() renders it, stamped with the time it was read. One per stream:
/// a line written in two pieces is one entry.
class LogPump {
  public:
    /// @param logFd the log file, opened O_APPEND (not owned)
    /// @param stream the stream this pump reads
    LogPump(int logFd, Stream stream) : logFd_(logFd), stream_(stream) {}

    /// Reads what is available on `fd` (one read(2)) and appends each complete line to
    /// the log; the rest waits for its newline.
    /// @return false at EOF (every writer closed the pipe), once the rest is flushed
    /// @throws SysError if read(2) or write(2) fails
    bool pump(int fd);

    /// Writes a last partial line (without a newline), if any.
    void flush();

  private:
    void append(std::string_view line);
    int logFd_;
    Stream stream_;
    std::string partial_;  // what was read after the last newline
};

/// The monitor's watch over a running container: pumps its stdout and stderr into the
/// log while they are open, reaps PID 1 when SIGCHLD arrives, and forwards SIGINT,
/// SIGTERM and SIGHUP to it (so `kill MONITOR` stops the container, as for a foreground
/// run). Returns once PID 1 is reaped and both pipes are at EOF.
/// @param pid the container's PID 1, the monitor's child
/// @param out the read end of the container's stdout pipe
/// @param err the read end of its stderr pipe
/// @param logFd the log file (LogPump)
/// @param signalFd a signalfd of the runtime's signals (signals::openSignalFd())
/// @return PID 1's wait status
int supervise(pid_t pid, UniqueFd out, UniqueFd err, int logFd, const UniqueFd& signalFd);

// --- stop (stop.cpp) ----------------------------------------------------------------------

/// Stops the process behind `pidfd`: SIGTERM, then SIGKILL if it has not exited after
/// `grace`; returns once it has exited (not necessarily reaped: its parent reaps it).
/// A PID 1 without a SIGTERM handler ignores SIGTERM, so `sleep` ends with the SIGKILL.
/// @return the signal that ended it: SIGTERM's number, or SIGKILL's
/// @throws SysError if pidfd_send_signal(2) or poll(2) fails
int stopProcess(const UniqueFd& pidfd, std::chrono::milliseconds grace);

/// True when the process behind `pidfd` has exited (poll(2) says it is readable) within
/// `timeout` (zero: just look).
/// @throws SysError if poll(2) fails
bool waitForExit(const UniqueFd& pidfd, std::chrono::milliseconds timeout);

// --- exec (exec.cpp) -------------------------------------------------------------------------

/// The namespaces exec joins before it forks, as `/proc/PID/ns/<name>` names them, in
/// order: mount last, since after it the host's /proc is out of reach. The cgroup
/// namespace is not among them: the child joins it itself, after its cgroup (joinCgroup()).
inline const std::vector<std::string> kJoinOrder = {"ipc", "uts", "net", "pid", "mnt"};

/// Open descriptors of a container's namespaces and cgroup(s): everything exec needs
/// from the host's view, taken before it leaves it.
struct ContainerHandles {
    std::vector<std::pair<std::string, UniqueFd>> namespaces;  ///< kJoinOrder's, in order
    UniqueFd cgroupNamespace;                                  ///< /proc/PID/ns/cgroup
    std::vector<UniqueFd> cgroupProcs;  ///< each hierarchy's `cgroup.procs` of the container
};

/// Opens every namespace of process `pid` (kJoinOrder, then its cgroup namespace) and the
/// `cgroup.procs` files `procsFiles`, all O_CLOEXEC, before anything is joined.
/// @throws SysError naming the file that could not be opened (the container is gone)
ContainerHandles openContainer(pid_t pid, const std::vector<std::string>& procsFiles);

/// Joins the container's namespaces of `handles.namespaces` with setns(2), in kJoinOrder.
/// The PID namespace applies to children only: fork after this, and the child is inside.
/// @throws SysError naming the namespace setns(2) refused
void joinNamespaces(const ContainerHandles& handles);

/// Child side, just after the fork: moves this process into the container's cgroup(s)
/// through the descriptors opened before (so it counts against the container's limits),
/// then into its cgroup namespace. In that order: on cgroup v2 a process may only move
/// between cgroups below its cgroup namespace's root, and the container's root is not
/// above the cgroup exec started in.
/// @throws SysError if a write or setns(2) fails
void joinCgroup(const ContainerHandles& handles);

// --- hardening (harden.cpp) ----------------------------------------------------------------

/// The capabilities a container keeps: Docker's default set (moby's
/// `oci/caps/defaults.go`) without CAP_MKNOD. This kit gives a container no device
/// cgroup, so the capability itself is what keeps it off the host's devices: without it
/// `mknod /dev/sda b 8 0` fails, and no node of a host disk can be made. Given data.
const std::vector<int>& defaultCapabilities();

/// The paths Docker hides from a container: files get /dev/null bound over them, directories
/// an empty read-only tmpfs (moby's `oci/defaults.go`, MaskedPaths). Given data.
const std::vector<std::string>& maskedPaths();

/// The paths Docker makes read-only in a container (ReadonlyPaths). Given data.
const std::vector<std::string>& readOnlyPaths();

/// Child side, after the mounts (the container's /proc and /sys are there) and before
/// exec: masks maskedPaths() and makes readOnlyPaths() read-only. A path the kernel does
/// not have (no /proc/scsi without SCSI) is skipped.
/// @throws SysError naming the mount(2) that failed
void maskPaths();

/// Reduces this process's capabilities to `keep`: the bounding set (prctl(2)
/// PR_CAPBSET_DROP of every other one), the ambient set cleared, and the effective,
/// permitted and inheritable sets (capset(2)). What this process execs keeps exactly these.
/// @throws SysError if prctl(2) or capset(2) fails
void dropCapabilities(const std::vector<int>& keep);

}  // namespace mydocker::runtime
