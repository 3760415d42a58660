// Lab 10: the monitor of a detached container: its birth (a double fork into a session of
// its own) and its watch (the log pump, the wait, the signals it passes on).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <optional>

#include "mydocker/error.hpp"
#include "mydocker/process.hpp"
#include "mydocker/runtime.hpp"
#include "mydocker/signals.hpp"
#include "mydocker/state.hpp"

namespace mydocker::runtime {
namespace {

/// The exit code of the intermediate child when setsid(2) or the second fork fails.
constexpr int kDetachFailed = 125;

/// Points fds 0, 1 and 2 at /dev/null: the monitor keeps none of its caller's.
void detachStdio() {
    const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null < 0) ::_exit(kDetachFailed);
    for (int fd = 0; fd <= 2; ++fd) {
        if (::dup2(null, fd) < 0) ::_exit(kDetachFailed);
    }
    if (null > 2) ::close(null);
}

}  // namespace

UniqueFd startMonitor(const std::function<int(UniqueFd report)>& monitorMain) {
    Pipe report = makePipe();
    // Hints:
    // - A session of its own: no terminal, no process group of the caller's. The
    //   session leader is this middle child; the monitor below it can never acquire a
    //   controlling terminal again (only a session leader can).
    // - Only the monitor writes its report: this end must close for us to see its EOF.
    todo("TODO (lab 10): fork, setsid, fork the monitor; reap the middle child", monitorMain, report, detachStdio);
    return std::move(report.read);
}

void LogPump::append(std::string_view line) {
    const std::string entry = formatLogEntry(stream_, line, nowRfc3339());
    // O_APPEND: each entry is one write(2) at the end, whole, whoever else writes.
    if (::write(logFd_, entry.data(), entry.size()) != static_cast<ssize_t>(entry.size())) {
        throw SysError("write", "container log");
    }
}

bool LogPump::pump(int fd) {
    // Hints:
    // - EOF: every writer is gone (PID 1 and everything it started). A pty's master
    //   (run -dt) says so with EIO.
    // - Docker keeps each line's newline in "log": `docker logs` writes the text back as is.
    todo("TODO (lab 10): read what the pipe has, append each whole line to the log", fd);
}

void LogPump::flush() {
    if (partial_.empty()) return;
    append(partial_);
    partial_.clear();
}

int supervise(pid_t pid, UniqueFd out, UniqueFd err, int logFd, const UniqueFd& signalFd) {
    LogPump outPump(logFd, Stream::stdout);
    LogPump errPump(logFd, Stream::stderr);
    // Hints:
    // - Until PID 1 is reaped AND both pipes are at EOF: its last words are in the pipes
    //   after it is gone, and a pipe at EOF alone says nothing of PID 1 (it may close
    //   stdout and live on).
    // - WNOHANG, every turn: a SIGCHLD read before this loop (or merged with an exec'd
    //   process's) must not leave PID 1 unreaped.
    // - A negative fd is ignored by poll(2): a pipe at EOF drops out of the loop.
    // - POLLHUP without POLLIN: the writers are gone; the read returns EOF.
    // - SIGCHLD: the next turn's waitpid() looks.
    // - Docker's sig-proxy: the container gets what the monitor got.
    todo("TODO (lab 10): poll both pipes and the signalfd until PID 1 is reaped and both pipes are at EOF", pid, out, err, signalFd, outPump, errPump);
}

}  // namespace mydocker::runtime
