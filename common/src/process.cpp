#include "mydocker/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "mydocker/error.hpp"
#include "mydocker/file.hpp"
#include "mydocker/unique_fd.hpp"

extern char** environ;

namespace mydocker {

int exitCodeOfStatus(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    // A shell, and docker, report death by signal N as 128+N.
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return 125;
}

int ProcessResult::exitCode() const { return exitCodeOfStatus(status); }

int waitForPid(pid_t pid) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) throw SysError("waitpid", std::to_string(pid));
    }
    return status;
}

std::uint64_t processStartTime(pid_t pid) {
    const std::string path = fmt::format("/proc/{}/stat", pid);
    const std::string stat = readFile(path);
    // Field 2, the command name, is in parentheses and may itself hold spaces and ")":
    // count the fields from the last ")". Field 3 is the first after it; we want 22.
    const auto close = stat.rfind(')');
    constexpr int kStartTimeField = 22;
    constexpr int kFirstFieldAfterName = 3;
    std::size_t pos = close == std::string::npos ? std::string::npos : close + 2;
    for (int field = kFirstFieldAfterName; field < kStartTimeField && pos != std::string::npos;
         ++field) {
        pos = stat.find(' ', pos);
        if (pos != std::string::npos) ++pos;
    }
    if (pos == std::string::npos) throw Error(fmt::format("cannot parse {}", path));
    return std::strtoull(stat.c_str() + pos, nullptr, 10);
}

namespace {

using Clock = std::chrono::steady_clock;

// Builds a NULL-terminated char* array pointing into `strings`.
std::vector<char*> cArray(std::vector<std::string>& strings) {
    std::vector<char*> array;
    for (auto& s : strings) array.push_back(s.data());
    array.push_back(nullptr);
    return array;
}

// In the forked child: wire the pipes to fds 0-2 and exec. Never returns.
[[noreturn]] void execChild(std::vector<std::string> argv, std::vector<std::string> env,
                            int in, int out, int err) {
    ::setpgid(0, 0);  // its own group, so a timeout kills its children too
    // The runtime blocks its signals and ignores SIGPIPE (signals.hpp); both would
    // survive execve(2). The program gets the usual signal state.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    if (::dup2(in, STDIN_FILENO) < 0 || ::dup2(out, STDOUT_FILENO) < 0 ||
        ::dup2(err, STDERR_FILENO) < 0) {
        ::_exit(125);
    }
    for (char** e = environ; *e != nullptr; ++e) env.insert(env.begin(), *e);
    auto args = cArray(argv);
    auto envp = cArray(env);
    ::execvpe(args[0], args.data(), envp.data());
    const int code = errno == ENOENT ? 127 : 126;
    const std::string message = std::string("exec ") + argv[0] + ": " + std::strerror(errno) + "\n";
    [[maybe_unused]] const ssize_t n = ::write(STDERR_FILENO, message.data(), message.size());
    ::_exit(code);
}

}  // namespace

ProcessResult runProcess(const std::vector<std::string>& argv, const SpawnOptions& options) {
    Pipe in = makePipe();
    Pipe out = makePipe();
    Pipe err = makePipe();
    UniqueFd devNull;
    int childStdin = in.read.get();
    if (!options.input) {
        devNull.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
        childStdin = devNull.get();
    }

    const pid_t pid = ::fork();
    if (pid < 0) throw SysError("fork");
    if (pid == 0) execChild(argv, options.env, childStdin, out.write.get(), err.write.get());
    ::setpgid(pid, pid);  // also from this side: no race with the first kill
    in.read.reset();
    out.write.reset();
    err.write.reset();

    if (options.input) {
        // Small inputs only (a pipe buffer's worth); enough for the kit's uses.
        [[maybe_unused]] const ssize_t n =
            ::write(in.write.get(), options.input->data(), options.input->size());
    }
    in.write.reset();

    ProcessResult result;
    const auto deadline = Clock::now() + options.timeout;
    pollfd fds[2] = {{out.read.get(), POLLIN, 0}, {err.read.get(), POLLIN, 0}};
    std::string* sinks[2] = {&result.out, &result.err};
    int open = 2;
    while (open > 0) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) {
            result.timedOut = true;
            ::kill(-pid, SIGKILL);
            ::kill(pid, SIGKILL);
            break;
        }
        const int ready = ::poll(fds, 2, static_cast<int>(left.count()));
        if (ready < 0 && errno == EINTR) continue;
        if (ready < 0) throw SysError("poll");
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || fds[i].revents == 0) continue;
            char buffer[4096];
            const ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
            if (n > 0) {
                sinks[i]->append(buffer, static_cast<std::size_t>(n));
            } else {
                fds[i].fd = -1;
                --open;
            }
        }
    }
    result.status = waitForPid(pid);
    return result;
}

}  // namespace mydocker
