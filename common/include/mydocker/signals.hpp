/// @file
/// @brief The runtime's signals: blocked from the first instruction, read from a signalfd.
///
/// A signal handler that does real work (undo a half-started container) runs at any
/// instruction, in the middle of a malloc or a half-written state file. So the runtime
/// never installs one: main() blocks the signals it cares about before anything else,
/// and reads them when it is ready to act (bubblewrap and crun do the same):
///
/// - between the steps of a container's start, a pending SIGINT, SIGTERM or SIGHUP
///   stops the start: throwIfInterrupted() throws Interrupted, and the teardown undoes
///   what was done;
/// - while CMD runs, a signalfd(2) delivers them as data: the runtime forwards them to
///   the container (docker run's sig-proxy) and reaps it on SIGCHLD.
///
/// The blocked mask and ignored dispositions survive clone(2) and execve(2): the
/// container's child calls resetForExec() before it execs CMD.
#pragma once

#include <signal.h>

#include <optional>
#include <string>

#include "mydocker/error.hpp"
#include "mydocker/unique_fd.hpp"

namespace mydocker::signals {

/// The signals that stop a container's start, and that a foreground run forwards.
bool isTermination(int signal);

/// SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 and SIGCHLD: every signal the
/// runtime reads from a signalfd instead of letting it kill the runtime.
sigset_t handledSignals();

/// main()'s first call: blocks handledSignals() and ignores SIGPIPE (a closed stderr or
/// pipe must give EPIPE, never kill the runtime half-way). Also opens /dev/null on any
/// of fds 0, 1 and 2 that is closed, so that no file the runtime opens later becomes
/// its stderr by accident.
void blockAtStart();

/// Child side, just before execve(2): unblocks every signal and restores SIGPIPE's
/// default, so CMD starts with the signal state any program expects.
/// @throws SysError if sigprocmask(2) or sigaction(2) fails
void resetForExec();

/// The name of a signal, "SIGTERM".
std::string name(int signal);

/// The runtime was told to stop (SIGINT, SIGTERM, SIGHUP) before the container ran:
/// exit code 128+N, as if the signal had killed it, once everything is undone.
class Interrupted : public Error {
  public:
    /// @param signal the signal that arrived
    explicit Interrupted(int signal);
    int exitCode() const noexcept override { return 128 + signal_; }
    /// The signal that arrived.
    int signal() const noexcept { return signal_; }

  private:
    int signal_;
};

/// Takes a pending SIGINT, SIGTERM or SIGHUP, if any, without waiting.
std::optional<int> takePendingTermination();

/// Between two steps of a start: throws Interrupted if SIGINT, SIGTERM or SIGHUP is
/// pending.
void throwIfInterrupted();

/// A signalfd(2) reading handledSignals() (they must be blocked: blockAtStart()).
/// @throws SysError if signalfd(2) fails
UniqueFd openSignalFd();

/// Reads one signal from a signalfd; blocks until one is there.
/// @throws SysError if read(2) fails
int readSignal(const UniqueFd& signalFd);

}  // namespace mydocker::signals
