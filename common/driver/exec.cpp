// Lab 10: `exec [-i] [-t] [-e K=V] C CMD...`: a new process inside a running container.
//
//   lab10 exec (host)                          the command (in the container)
//   -----------------                          ------------------------------
//   open /proc/PID/ns/*, cgroup.procs  (10)
//   setns: ipc, uts, net, pid, mnt     (10)
//   -t: a pty of the container's devpts
//   fork  ------------------------------------> join its cgroup, then its cgroup ns (10)
//                                               its working directory, environment,
//                                               seccomp filter and capabilities;
//                                               -t: the pty as its terminal
//   wait, passing signals on  <----------------  exec CMD (the report pipe closes)
//     (-t: relaying the terminal)
//
// The runtime stays single-threaded: setns(2) of a mount namespace refuses a process
// whose threads share its filesystem information.
#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "containers.hpp"
#include "hardening.hpp"
#include "lab.hpp"
#include "mydocker/error.hpp"
#include "mydocker/namespaces.hpp"
#include "mydocker/process.hpp"
#include "mydocker/pty.hpp"
#include "mydocker/runtime.hpp"
#include "mydocker/signals.hpp"
#include "verbs.hpp"

namespace mydocker::driver {
namespace {

struct ExecFlags {
    bool interactive = false;
    bool tty = false;
    std::vector<std::string> env;
    std::vector<std::string> words;  // C CMD...
};

/// The container's environment, then -e (a later one of a name wins).
std::vector<std::string> execEnvironment(std::vector<std::string> env,
                                         const std::vector<std::string>& extra) {
    for (const std::string& variable : extra) {
        std::string entry = variable;
        if (entry.find('=') == std::string::npos) {
            const char* value = std::getenv(entry.c_str());
            if (value == nullptr) continue;
            entry += std::string("=") + value;
        }
        const std::string name = entry.substr(0, entry.find('='));
        std::erase_if(env, [&](const std::string& e) { return e.substr(0, e.find('=')) == name; });
        env.push_back(entry);
    }
    return env;
}

/// The child: joins the cgroup, hardens itself as the container's processes are, execs.
[[noreturn]] void execChild(const runtime::ContainerHandles& handles, const ContainerState& state,
                            const std::vector<std::string>& command,
                            const std::vector<std::string>& env, bool interactive, int terminal,
                            int reportFd) {
    try {
        // Dies with exec's parent: nothing of it may outlive the command line tool.
        if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) throw SysError("prctl", "PR_SET_PDEATHSIG");
        withContext("join the container's cgroup", [&] { runtime::joinCgroup(handles); });
        if (terminal >= 0) {
            pty::becomeTerminal(terminal);
        } else if (!interactive) {
            const int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
            if (null < 0 || ::dup2(null, STDIN_FILENO) < 0) throw SysError("open", "/dev/null");
        }
        const std::string dir = state.workingDir.empty() ? "/" : state.workingDir;
        if (::chdir(dir.c_str()) != 0) throw SysError("chdir", dir);
        hardenProcess();
        signals::resetForExec();
        ns::execCommand(command, env);
    } catch (const Error& e) {
        const std::string text = fmt::format("{} {}", e.exitCode(), e.what());
        [[maybe_unused]] const ssize_t n = ::write(reportFd, text.data(), text.size());
        ::_exit(e.exitCode());
    }
    ::_exit(kRuntimeFailure);
}

int execIn(const std::string& root, const ExecFlags& flags) {
    const std::string& ref = flags.words.front();
    const ContainerState state = resolveContainer(root, ref);
    const std::vector<std::string> command(flags.words.begin() + 1, flags.words.end());
    auto pidfd = openPidfd(state.pid, state.pidStartTime);
    if (!pidfd || state.status != "running") {
        throw UsageError(fmt::format("container {} is not running (it {})", quoted(ref),
                                     state.status == "exited"
                                         ? fmt::format("exited with code {}", state.exitCode)
                                         : std::string("has no process")));
    }
    runtime::ContainerHandles handles = withContext("open the container's namespaces", [&] {
        return runtime::openContainer(state.pid, cgroupProcsFilesOf(state.pid));
    });
    // The container's root, opened before the mount namespace is joined: setns(2) puts us
    // at the root of the namespace's first mount, which is the container's root only when
    // the runtime itself runs at the root of its own (not in a chroot: then it is the
    // host's "/" seen from the container's namespace). Entering the root the container's
    // PID 1 has is right in both cases, as nsenter --root does.
    const std::string rootPath = fmt::format("/proc/{}/root", state.pid);
    const UniqueFd containerRoot(::open(rootPath.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!containerRoot) throw SysError("open", rootPath);
    // The pidfd still open and not readable: the namespaces are those of the process we
    // checked, not of one that got its pid after it exited.
    if (runtime::waitForExit(*pidfd, std::chrono::milliseconds(0))) {
        throw UsageError(fmt::format("container {} is not running (it {})", quoted(ref),
                                     state.status == "exited"
                                         ? fmt::format("exited with code {}", state.exitCode)
                                         : std::string("has no process")));
    }
    withContext("join the container's namespaces", [&] { runtime::joinNamespaces(handles); });
    if (::fchdir(containerRoot.get()) != 0 || ::chroot(".") != 0) {
        throw SysError("chroot", "the container's root");
    }
    const std::vector<std::string> env = execEnvironment(state.env, flags.env);

    // -t: a pty of the container's own devpts, opened now that its /dev/pts is ours.
    pty::Pty terminal;
    if (flags.tty) terminal = withContext("open a terminal", [] { return pty::open(); });

    const UniqueFd signalFd = signals::openSignalFd();
    Pipe report = makePipe();
    std::fflush(stdout);
    const pid_t child = ::fork();
    if (child < 0) throw SysError("fork", "exec");
    if (child == 0) {
        execChild(handles, state, command, env, flags.interactive,
                  terminal.peer ? terminal.peer.get() : -1, report.write.get());
    }
    report.write.reset();
    terminal.peer.reset();  // the command's alone: the master reads EIO once it is gone
    std::string text;
    char buffer[1024];
    for (ssize_t n; (n = ::read(report.read.get(), buffer, sizeof buffer)) != 0;) {
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) break;
        text.append(buffer, static_cast<std::size_t>(n));
    }
    if (terminal.master && text.empty()) {
        const pty::RawMode raw;
        return exitCodeOfStatus(pty::relay(child, terminal.master.get(), flags.interactive,
                                           signalFd,
                                           [child](int signal) { ::kill(child, signal); }));
    }
    // Wait for it, passing the signals exec gets on (as docker exec does).
    for (;;) {
        int status = 0;
        const pid_t done = ::waitpid(child, &status, WNOHANG);
        if (done == child) {
            if (!text.empty()) {
                const auto space = text.find(' ');
                throw ExecError(std::atoi(text.substr(0, space).c_str()),
                                space == std::string::npos ? text : text.substr(space + 1));
            }
            return exitCodeOfStatus(status);
        }
        if (done < 0 && errno != EINTR) throw SysError("waitpid", std::to_string(child));
        const int signal = signals::readSignal(signalFd);
        if (signal != SIGCHLD) ::kill(child, signal);
    }
}

}  // namespace

Verb addExecVerb(CLI::App& app, const Globals& globals) {
    CLI::App* exec = app.add_subcommand("exec", "Run a command in a running container");
    auto flags = std::make_shared<ExecFlags>();
    exec->add_flag("-i,--interactive", flags->interactive, "Keep stdin open");
    exec->add_flag("-t,--tty", flags->tty, "Give the command a pseudo-terminal (fds 0, 1 and 2)");
    // One value per -e, however many: the next word is the container's name.
    exec->add_option("-e,--env", flags->env, "Set an environment variable (repeatable)")
        ->allow_extra_args(false)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    exec->add_option("words", flags->words, "CONTAINER CMD [ARG...]")->required();
    exec->positionals_at_end();
    return Verb{
        exec, [flags, &globals] {
            if (flags->words.size() < 2) {
                throw UsageError("no command to run (exec [OPTIONS] CONTAINER CMD [ARG...])");
            }
            return execIn(globals.root, *flags);
        }};
}

}  // namespace mydocker::driver
