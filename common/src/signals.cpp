#include "mydocker/signals.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

namespace mydocker::signals {

bool isTermination(int signal) {
    return signal == SIGINT || signal == SIGTERM || signal == SIGHUP;
}

sigset_t handledSignals() {
    sigset_t set;
    sigemptyset(&set);
    for (const int signal : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCHLD}) {
        sigaddset(&set, signal);
    }
    return set;
}

void blockAtStart() {
    const sigset_t handled = handledSignals();
    // Nothing to report to yet if these fail (stderr may be the problem): carry on, the
    // runtime still works, only less safely.
    ::sigprocmask(SIG_BLOCK, &handled, nullptr);
    ::signal(SIGPIPE, SIG_IGN);
    for (int fd = STDIN_FILENO; fd <= STDERR_FILENO; ++fd) {
        if (::fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
            // open(2) returns the lowest free descriptor: this one. Not O_CLOEXEC: it is
            // the container's stdio too.
            [[maybe_unused]] const int opened = ::open("/dev/null", O_RDWR);
        }
    }
}

void resetForExec() {
    sigset_t none;
    sigemptyset(&none);
    if (::sigprocmask(SIG_SETMASK, &none, nullptr) != 0)
        throw SysError("sigprocmask", "unblock all");
    struct sigaction defaults {};
    defaults.sa_handler = SIG_DFL;
    sigemptyset(&defaults.sa_mask);
    // An ignored signal stays ignored across execve(2); a program expects SIGPIPE to kill it.
    if (::sigaction(SIGPIPE, &defaults, nullptr) != 0) throw SysError("sigaction", "SIGPIPE");
}

std::string name(int signal) {
    if (const char* abbreviation = ::sigabbrev_np(signal))
        return fmt::format("SIG{}", abbreviation);
    return fmt::format("signal {}", signal);
}

Interrupted::Interrupted(int signal)
    : Error(fmt::format("interrupted by {} before the container ran (everything was undone)",
                        name(signal))),
      signal_(signal) {}

std::optional<int> takePendingTermination() {
    sigset_t terminations;
    sigemptyset(&terminations);
    for (const int signal : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&terminations, signal);
    const timespec now{0, 0};
    const int signal = ::sigtimedwait(&terminations, nullptr, &now);
    if (signal > 0) return signal;
    return std::nullopt;
}

void throwIfInterrupted() {
    if (const auto signal = takePendingTermination()) throw Interrupted(*signal);
}

UniqueFd openSignalFd() {
    const sigset_t handled = handledSignals();
    UniqueFd fd(::signalfd(-1, &handled, SFD_CLOEXEC));
    if (!fd) throw SysError("signalfd");
    return fd;
}

int readSignal(const UniqueFd& signalFd) {
    signalfd_siginfo info{};
    for (;;) {
        const ssize_t n = ::read(signalFd.get(), &info, sizeof info);
        if (n == static_cast<ssize_t>(sizeof info)) return static_cast<int>(info.ssi_signo);
        if (n < 0 && errno == EINTR) continue;
        throw SysError("read", "signalfd");
    }
}

}  // namespace mydocker::signals
