// Lab 10's pseudo-terminals: see pty.hpp.
#include "mydocker/pty.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string>

#include "mydocker/error.hpp"
#include "mydocker/signals.hpp"

namespace mydocker::pty {
namespace {

/// The pty multiplexer's device numbers, in /dev and in every devpts.
constexpr unsigned kPtmxMajor = 5;
constexpr unsigned kPtmxMinor = 2;

/// Writes all of `data`, waiting while `fd` is full. False if `fd` is gone.
bool writeAll(int fd, const char* data, std::size_t size) {
    while (size > 0) {
        const ssize_t n = ::write(fd, data, size);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) {
            pollfd out{fd, POLLOUT, 0};
            ::poll(&out, 1, -1);
            continue;
        }
        if (n <= 0) return false;
        data += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

/// Copies what `from` has now to `to`. False at the end of `from` (EOF, or EIO: a pty's
/// master reads EIO once no process holds its peer) or when `to` is gone.
bool copyOnce(int from, int to) {
    char buffer[4096];
    const ssize_t n = ::read(from, buffer, sizeof buffer);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
    if (n <= 0) return false;
    return writeAll(to, buffer, static_cast<std::size_t>(n));
}

/// A signalfd for SIGWINCH alone, blocked from now on (CMD unblocks every signal before
/// its exec: signals::resetForExec()).
UniqueFd openWinchFd() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGWINCH);
    if (::sigprocmask(SIG_BLOCK, &set, nullptr) != 0) throw SysError("sigprocmask", "SIGWINCH");
    UniqueFd fd(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!fd) throw SysError("signalfd", "SIGWINCH");
    return fd;
}

}  // namespace

Pty open() {
    constexpr const char* kPtmx = "/dev/pts/ptmx";
    Pty pty;
    pty.master = UniqueFd(::open(kPtmx, O_RDWR | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    if (!pty.master) throw SysError("open", kPtmx);
    struct stat st {};
    if (::fstat(pty.master.get(), &st) != 0) throw SysError("fstat", kPtmx);
    if (!S_ISCHR(st.st_mode) || major(st.st_rdev) != kPtmxMajor ||
        minor(st.st_rdev) != kPtmxMinor) {
        throw Error(fmt::format("{} is not the pty multiplexer", kPtmx));
    }
    // Back to blocking: O_NONBLOCK only kept a FIFO put there from holding us.
    if (::fcntl(pty.master.get(), F_SETFL, 0) != 0) throw SysError("fcntl", kPtmx);
    int unlock = 0;
    if (::ioctl(pty.master.get(), TIOCSPTLCK, &unlock) != 0) throw SysError("unlockpt", kPtmx);
    // The peer through the master itself: no path to look up in a directory the
    // container may change (TIOCGPTPEER, Linux 4.13).
    pty.peer = UniqueFd(::ioctl(pty.master.get(), TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!pty.peer) throw SysError("ioctl", "TIOCGPTPEER");
    return pty;
}

void becomeTerminal(int peer) {
    // The caller's size, while its fds are still ours: CMD's first `stty size` sees it.
    copyWindowSize(peer);
    if (::setsid() < 0) throw SysError("setsid", "the container's terminal");
    if (::ioctl(peer, TIOCSCTTY, 0) != 0) throw SysError("ioctl", "TIOCSCTTY");
    for (int fd = 0; fd <= 2; ++fd) {
        if (::dup2(peer, fd) < 0) throw SysError("dup2", "the container's terminal");
    }
}

namespace {

/// One byte of data and room for one fd: what sendFd() sends and receiveFd() reads.
struct FdMessage {
    char byte = 0;
    iovec iov{&byte, 1};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr header{};

    FdMessage() {
        header.msg_iov = &iov;
        header.msg_iovlen = 1;
        header.msg_control = control;
        header.msg_controllen = sizeof control;
    }
    FdMessage(const FdMessage&) = delete;
    FdMessage& operator=(const FdMessage&) = delete;
};

}  // namespace

void sendFd(int socket, int fd) {
    FdMessage message;
    cmsghdr* rights = CMSG_FIRSTHDR(&message.header);
    rights->cmsg_level = SOL_SOCKET;
    rights->cmsg_type = SCM_RIGHTS;
    rights->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(rights), &fd, sizeof(int));
    while (::sendmsg(socket, &message.header, MSG_NOSIGNAL) < 0) {
        if (errno != EINTR) throw SysError("sendmsg", "the terminal's fd");
    }
}

UniqueFd receiveFd(int socket) {
    FdMessage message;
    ssize_t n;
    while ((n = ::recvmsg(socket, &message.header, MSG_CMSG_CLOEXEC)) < 0) {
        if (errno != EINTR) throw SysError("recvmsg", "the terminal's fd");
    }
    const cmsghdr* rights = CMSG_FIRSTHDR(&message.header);
    if (n == 0 || rights == nullptr || rights->cmsg_level != SOL_SOCKET ||
        rights->cmsg_type != SCM_RIGHTS || rights->cmsg_len != CMSG_LEN(sizeof(int))) {
        return UniqueFd();
    }
    int fd = -1;
    std::memcpy(&fd, CMSG_DATA(rights), sizeof(int));
    return UniqueFd(fd);
}

RawMode::RawMode() {
    if (::isatty(STDIN_FILENO) == 0 || ::tcgetattr(STDIN_FILENO, &original_) != 0) return;
    termios raw = original_;
    ::cfmakeraw(&raw);
    saved_ = ::tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
}

RawMode::~RawMode() {
    // TCSADRAIN: what the container wrote last is out before the echo comes back.
    if (saved_) ::tcsetattr(STDIN_FILENO, TCSADRAIN, &original_);
}

void copyWindowSize(int pty) {
    winsize size{};
    for (const int fd : {STDIN_FILENO, STDOUT_FILENO}) {
        if (::ioctl(fd, TIOCGWINSZ, &size) == 0) {
            ::ioctl(pty, TIOCSWINSZ, &size);
            return;
        }
    }
}

int relay(pid_t child, int master, bool input, const UniqueFd& signalFd,
          const std::function<void(int)>& onSignal) {
    const UniqueFd winch = openWinchFd();
    copyWindowSize(master);
    bool masterOpen = true;
    bool inputOpen = input;
    std::optional<int> status;
    // Until the child is reaped; then what the master still holds is drained.
    while (!status) {
        int wstatus = 0;
        const pid_t done = ::waitpid(child, &wstatus, WNOHANG);
        if (done == child) {
            status = wstatus;
            break;
        }
        if (done < 0 && errno != EINTR) throw SysError("waitpid", std::to_string(child));
        pollfd fds[4] = {{signalFd.get(), POLLIN, 0},
                         {winch.get(), POLLIN, 0},
                         {masterOpen ? master : -1, POLLIN, 0},
                         {inputOpen ? STDIN_FILENO : -1, POLLIN, 0}};
        if (::poll(fds, 4, -1) < 0) {
            if (errno == EINTR) continue;
            throw SysError("poll", "terminal");
        }
        if (fds[1].revents != 0) {  // first: what is typed next finds the new size
            signalfd_siginfo info{};
            while (::read(winch.get(), &info, sizeof info) == sizeof info) {
            }
            copyWindowSize(master);
        }
        if (fds[2].revents != 0 && !copyOnce(master, STDOUT_FILENO)) masterOpen = false;
        if (fds[3].revents != 0 && !copyOnce(STDIN_FILENO, master)) inputOpen = false;
        if (fds[0].revents != 0) {
            const int signal = signals::readSignal(signalFd);
            if (signal != SIGCHLD) onSignal(signal);
        }
    }
    // The child's last words: whatever the master holds now, without waiting for a
    // process that kept the peer open (exec's command may leave one behind).
    if (masterOpen) {
        pollfd last{master, POLLIN, 0};
        while (::poll(&last, 1, 0) > 0 && copyOnce(master, STDOUT_FILENO)) {
        }
    }
    return *status;
}

}  // namespace mydocker::pty
