// The run pipeline. The order of the steps is the lesson of the whole kit:
//
//   parent                                  child (new namespaces)
//   ------                                  ----------------------
//   record the container's state
//   create its cgroup, apply limits   (03)
//   apply the memory limit            (04)
//   clone the child ------------------->    block on the sync pipe
//   put the child in the cgroup       (03)
//   release the child ----------------->    set up the root: /proc, or --rootfs (01, 02)
//                                           set the hostname (01)
//   wait for the setup report <---------    exec CMD (01): the report pipe closes
//   wait for CMD to end
//   read the OOM kill count           (04)
//   tear down in reverse order, record the exit
//
// Every step that creates kernel state registers its undo as it is done (a ScopeGuard),
// so a failure anywhere leaves nothing behind.
#include "container.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "mydocker/error.hpp"
#include "mydocker/file.hpp"
#include "mydocker/log.hpp"
#include "mydocker/namespaces.hpp"
#include "mydocker/process.hpp"
#include "mydocker/scope_guard.hpp"
#include "mydocker/state.hpp"
#include "mydocker/unique_fd.hpp"
#if MYDOCKER_LAB >= 2
#include "mydocker/rootfs.hpp"
#endif
#if MYDOCKER_LAB >= 3
#include "mydocker/cgroups.hpp"
#endif
#if MYDOCKER_LAB >= 4
#include "mydocker/memory.hpp"
#endif

namespace mydocker::driver {
namespace {

// What the child tells the parent when its setup fails before exec: the exit code
// the runtime should return (125, 126 or 127) and the error line.
struct SetupFailure {
    int exitCode = 125;
    std::string message;
};

// Child side: sends a failure over the report pipe as "<code> <message>".
void sendFailure(int reportFd, const Error& error) {
    const std::string report = fmt::format("{} {}", error.exitCode(), error.what());
    [[maybe_unused]] const ssize_t n = ::write(reportFd, report.data(), report.size());
}

// Parent side: reads the child's report. EOF with nothing written means the child's
// exec succeeded (the pipe is close-on-exec), so CMD is running.
std::optional<SetupFailure> receiveFailure(const UniqueFd& reportFd) {
    std::string report;
    char buffer[1024];
    for (;;) {
        const ssize_t n = ::read(reportFd.get(), buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw SysError("read", "report pipe");
        if (n == 0) break;
        report.append(buffer, static_cast<std::size_t>(n));
    }
    if (report.empty()) return std::nullopt;
    SetupFailure failure;
    const auto space = report.find(' ');
    failure.exitCode = std::atoi(report.substr(0, space).c_str());
    failure.message = space == std::string::npos ? report : report.substr(space + 1);
    return failure;
}

// The environment CMD starts with: what `docker run` gives a container by default.
std::vector<std::string> containerEnvironment(const RunConfig& config) {
    std::vector<std::string> env = {
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOSTNAME=" + config.hostname,
        "HOME=/root",
    };
    env.insert(env.end(), config.env.begin(), config.env.end());
    return env;
}

// Everything the child does after the parent released it. Returns only on failure.
int childMain(const RunConfig& config, int reportFd) {
    try {
        // If the runtime dies, its container must not outlive it.
        if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) throw SysError("prctl", "PR_SET_PDEATHSIG");
#if MYDOCKER_LAB >= 2
        if (!config.rootfs.empty()) {
            withContext("preparing the root filesystem",
                        [&] { rootfs::enterRootfs(config.rootfs); });
        } else {
            withContext("mounting /proc", [] { ns::remountProc(); });
        }
#else
        withContext("mounting /proc", [] { ns::remountProc(); });
#endif
        withContext("setting the hostname", [&] { ns::setHostname(config.hostname); });
        ns::execCommand(config.command, containerEnvironment(config));
    } catch (const Error& e) {
        sendFailure(reportFd, e);
        return e.exitCode();
    } catch (const std::exception& e) {
        sendFailure(reportFd, Error(e.what()));
    }
    return 125;
}

// The child being waited for, so that signals sent to the runtime reach it
// (docker run's sig-proxy).
volatile sig_atomic_t g_childPid = 0;

void forwardSignal(int signal) {
    if (g_childPid > 0) ::kill(g_childPid, signal);
}

// Forwards the signals a user sends to a foreground container.
void forwardSignalsTo(pid_t pid) {
    g_childPid = pid;
    struct sigaction action {};
    action.sa_handler = forwardSignal;
    action.sa_flags = SA_RESTART;
    sigemptyset(&action.sa_mask);
    for (const int signal : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2}) {
        ::sigaction(signal, &action, nullptr);
    }
}

}  // namespace

int runContainer(const RunConfig& config) {
    ContainerState state;
    state.id = config.id;
    state.hostname = config.hostname;
    state.rootfs = config.rootfs;
    state.command = config.command;
    state.createdAt = nowRfc3339();

    // 1. The container's directory under --root; removed again if the start fails.
    const std::string dir = containerDir(config.root, config.id);
    makeDirs(dir, 0700);
    ScopeGuard removeDir([&] { removeAll(dir); });
    saveState(config.root, state);

#if MYDOCKER_LAB >= 3
    // 2. Its cgroup, with the limits applied before any process is inside.
    auto cgroup = withContext("creating the cgroup",
                              [&] { return cgroups::createForContainer(config.id, config.limits); });
    ScopeGuard removeCgroup([&] { cgroup->destroy(); });
#endif
#if MYDOCKER_LAB >= 4
    if (config.limits.memoryBytes) {
        withContext("limiting memory",
                    [&] { memory::applyMemoryLimit(*cgroup, *config.limits.memoryBytes); });
    }
#endif

    // 3. The child, in new namespaces, held at its sync point.
    Pipe report = makePipe();
    ns::Child child = withContext("creating the container process", [&] {
        return ns::spawnChild(ns::containerCloneFlags(),
                              [&] { return childMain(config, report.write.get()); });
    });
    ScopeGuard killChild([&] {
        ::kill(child.pid, SIGKILL);
        waitForPid(child.pid);
    });
    report.write.reset();  // only the child writes; we must see EOF when it execs
    log::debug("container {} started as pid {}", shortId(config.id), child.pid);

#if MYDOCKER_LAB >= 3
    // 4. Into the cgroup before it runs anything: every process it forks stays there.
    withContext("joining the cgroup", [&] { cgroup->attach(child.pid); });
#endif

    // 5. Let it go on: set up its root and hostname, exec CMD.
    forwardSignalsTo(child.pid);
    ns::release(child);
    const std::optional<SetupFailure> failure = receiveFailure(report.read);

    state.status = "running";
    state.pid = child.pid;
    if (!failure) saveState(config.root, state);

    // 6. Wait for CMD to end; from here on the container's record is kept.
    const int status = waitForPid(child.pid);
    g_childPid = 0;
    killChild.dismiss();
    // A container that never ran CMD is undone whole; one that ran keeps its record.
    if (!failure) removeDir.dismiss();

    int exitCode = exitCodeOfStatus(status);
    if (failure) {
        log::write(log::Level::error, failure->message);
        exitCode = failure->exitCode;
    }
#if MYDOCKER_LAB >= 4
    // 7. Ask the cgroup, not the exit status, whether the kernel's OOM killer struck:
    //    a SIGKILL looks the same whoever sent it.
    if (withContext("reading the OOM kill count", [&] { return memory::oomKilled(*cgroup); })) {
        state.oomKilled = true;
        log::write(log::Level::error, "container was OOM-killed");
        exitCode = 137;
    }
#endif
    state.status = "exited";
    state.exitCode = exitCode;
    saveState(config.root, state);
    return exitCode;
}

}  // namespace mydocker::driver
