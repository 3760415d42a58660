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
    // BEGIN SOLUTION: todo("TODO (lab 10): fork, setsid, fork the monitor; reap the middle child", monitorMain, report, detachStdio);
    const pid_t middle = ::fork();
    if (middle < 0) throw SysError("fork", "monitor");
    if (middle == 0) {
        // A session of its own: no terminal, no process group of the caller's. The
        // session leader is this middle child; the monitor below it can never acquire a
        // controlling terminal again (only a session leader can).
        if (::setsid() < 0) ::_exit(kDetachFailed);
        const pid_t monitor = ::fork();
        if (monitor < 0) ::_exit(kDetachFailed);
        if (monitor > 0) ::_exit(0);  // the monitor is orphaned: init or a subreaper adopts it
        report.read.reset();
        detachStdio();
        ::_exit(monitorMain(std::move(report.write)));
    }
    // Only the monitor writes its report: this end must close for us to see its EOF.
    report.write.reset();
    const int status = waitForPid(middle);
    if (exitCodeOfStatus(status) != 0) {
        throw Error("the monitor could not be started (setsid or fork failed)");
    }
    // END SOLUTION
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
    // BEGIN SOLUTION: todo("TODO (lab 10): read what the pipe has, append each whole line to the log", fd);
    char buffer[4096];
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
    if (n < 0 && errno != EIO) throw SysError("read", "container output");
    if (n <= 0) {
        // EOF: every writer is gone (PID 1 and everything it started). A pty's master
        // (run -dt) says so with EIO.
        flush();
        return false;
    }
    partial_.append(buffer, static_cast<std::size_t>(n));
    // Docker keeps each line's newline in "log": `docker logs` writes the text back as is.
    std::size_t start = 0;
    for (std::size_t newline; (newline = partial_.find('\n', start)) != std::string::npos;
         start = newline + 1) {
        append(std::string_view(partial_).substr(start, newline + 1 - start));
    }
    partial_.erase(0, start);
    return true;
    // END SOLUTION
}

void LogPump::flush() {
    if (partial_.empty()) return;
    append(partial_);
    partial_.clear();
}

int supervise(pid_t pid, UniqueFd out, UniqueFd err, int logFd, const UniqueFd& signalFd) {
    LogPump outPump(logFd, Stream::stdout);
    LogPump errPump(logFd, Stream::stderr);
    // BEGIN SOLUTION: todo("TODO (lab 10): poll both pipes and the signalfd until PID 1 is reaped and both pipes are at EOF", pid, out, err, signalFd, outPump, errPump);
    std::optional<int> status;
    // Until PID 1 is reaped AND both pipes are at EOF: its last words are in the pipes
    // after it is gone, and a pipe at EOF alone says nothing of PID 1 (it may close
    // stdout and live on).
    while (!status || out || err) {
        int wstatus = 0;
        // WNOHANG, every turn: a SIGCHLD read before this loop (or merged with an exec'd
        // process's) must not leave PID 1 unreaped.
        if (!status && ::waitpid(pid, &wstatus, WNOHANG) == pid) {
            status = wstatus;
            continue;
        }
        pollfd fds[3] = {
            {out.get(), POLLIN, 0}, {err.get(), POLLIN, 0}, {signalFd.get(), POLLIN, 0}};
        // A negative fd is ignored by poll(2): a pipe at EOF drops out of the loop.
        if (::poll(fds, 3, -1) < 0) {
            if (errno == EINTR) continue;
            throw SysError("poll", "monitor");
        }
        // POLLHUP without POLLIN: the writers are gone; the read returns EOF.
        if (fds[0].revents != 0 && !outPump.pump(out.get())) out.reset();
        if (fds[1].revents != 0 && !errPump.pump(err.get())) err.reset();
        if (fds[2].revents == 0) continue;
        const int signal = signals::readSignal(signalFd);
        // SIGCHLD: the next turn's waitpid() looks.
        if (signal != SIGCHLD && !status) {
            // Docker's sig-proxy: the container gets what the monitor got.
            ::kill(pid, signal);
        }
    }
    return *status;
    // END SOLUTION
}

}  // namespace mydocker::runtime
