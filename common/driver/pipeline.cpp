// The run pipeline: the life of a container on one screen.
//
//   runtime (parent)                                   container (child)
//   ----------------                                   -----------------
//   record the state
//   resolve the image, make upper/work           (05)
//   make the volumes ready                       (09)
//   create the cgroup, apply the limits          (03)
//   limit memory                                 (04)
//   allocate an address                          (06)
//   generate /etc/hosts and /etc/resolv.conf     (06)
//   clone the child in new namespaces  ---------->     block on the sync pipe
//     (a network namespace too from lab 06)
//   put it in the cgroup                         (03)
//   wire its network: veth, address, routes      (06)
//   publish ports: rules                         (07)
//   release the child  -------------------------->     enter a cgroup namespace (03, v2)
//                                                      set up the root filesystem (02),
//                                                        the image's layers on overlay (05),
//                                                        /etc/hosts, /etc/resolv.conf (06),
//                                                        the volumes, through fds (09),
//                                                        or mount /proc (01)
//                                                      enter the working directory (05)
//                                                      set the hostname (01)
//                                                      open its terminal: -t (10)
//                                                      harden: mask, seccomp, caps (10)
//   wait for CMD to start  <----------------------     exec CMD (01): the report pipe closes
//   wait for CMD to end, forwarding signals
//     (-t: relaying the terminal, 10),
//     or, detached: report to the CLI, log its output (10)
//   read the OOM kill count                      (04)
//   teardown: the undos, last first; record the exit
//
// Lab 10, the complete runtime, starts faster: the child works while the runtime does.
// Released at once, it joins its cgroup itself (a v1 process that moves itself, one
// thread through `tasks`, spares the kernel the grace period an attach by pid waits for:
// 10-20 ms, more than the rest of the start) and sets up its mounts while the runtime
// wires its network; a second pipe, the go, holds it before CMD:
//
//   clone the child  ---------------------------->     block on the sync pipe
//   release the child  -------------------------->     join its cgroup ("0" into tasks,
//   wire its network: veth, address, routes              v1; cgroup.procs, v2), enter a
//   publish ports: rules                                 cgroup namespace (v2), its mounts,
//                                                        working directory, hostname,
//                                                        terminal, masked paths;
//                                                      block on the go pipe
//   let it exec CMD  ---------------------------->     seccomp, capabilities, exec CMD
//
// Each step registers its undo in a Teardown as soon as it is done. A failure, or a
// SIGINT, SIGTERM or SIGHUP before CMD runs, unwinds through ~Teardown: what was done
// is undone, in reverse order, and nothing is left. `--log-level debug` prints every
// `step:` and `undo:`. The child's side is child.cpp.
#include "pipeline.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "containers.hpp"
#include "lab.hpp"
#include "layers.hpp"
#include "mydocker/cgroups.hpp"
#include "mydocker/error.hpp"
#include "mydocker/file.hpp"
#include "mydocker/log.hpp"
#include "mydocker/memory.hpp"
#include "mydocker/namespaces.hpp"
#include "mydocker/process.hpp"
#include "mydocker/pty.hpp"
#include "mydocker/runtime.hpp"
#include "mydocker/signals.hpp"
#include "mydocker/state.hpp"
#include "mydocker/teardown.hpp"
#include "mydocker/unique_fd.hpp"
#include "network.hpp"
#include "ports.hpp"
#include "volume.hpp"

namespace mydocker::driver {
namespace {

/// docker run's answer to a third Ctrl-C: the container is killed, not asked.
constexpr int kInterruptsBeforeKill = 3;

/// Lab 10: the files through which the child moves itself into its cgroup, "0" written
/// to each. v1: each hierarchy's `tasks`. A single thread that moves itself is the one
/// migration the kernel makes without its process-wide lock, whose taking waits for an
/// RCU grace period (10-20 ms); the child has one thread, so it is the whole process.
/// v2 has no such way (its `cgroup.threads` is for threaded cgroups): `cgroup.procs`.
[[maybe_unused]] std::vector<std::string> selfJoinFiles(const cgroups::Cgroup& cgroup,
                                                        const std::string& id) {
    if (cgroup.version() == 2) {
        return {joinPath(joinPath(cgroups::kDefaultRoot, cgroups::containerPath(id)),
                         "cgroup.procs")};
    }
    std::vector<std::string> files;
    for (const std::string_view controller : cgroups::kV1Controllers) {
        if (!cgroup.hasController(controller)) continue;
        std::string file = cgroup.filePath(controller, "tasks");
        if (std::find(files.begin(), files.end(), file) == files.end()) {
            files.push_back(std::move(file));  // co-mounted controllers share one
        }
    }
    return files;
}

/// Does the steps of a start, in order, each registering its undo in a Teardown.
class Steps {
  public:
    explicit Steps(Teardown& teardown) : teardown_(teardown) {}

    /// Does step `name`; then `undo` is registered, to run when the container ends or
    /// a later step fails. A SIGINT, SIGTERM or SIGHUP pending before the step stops
    /// the start instead (signals::Interrupted).
    template <class Do, class Undo>
    void run(std::string name, Do&& action, Undo&& undo) {
        run(name, std::forward<Do>(action));
        teardown_.add(std::move(name), std::forward<Undo>(undo));
    }

    /// Does step `name`, which has nothing to undo (its effect goes with an earlier step's).
    template <class Do>
    void run(const std::string& name, Do&& action) {
        signals::throwIfInterrupted();
        log::debug("step: {}", name);
        try {
            withContext(name, std::forward<Do>(action));
        } catch (const Error&) {
            if (explain_) explain_();
            throw;
        }
    }

    /// From now on a step that fails first calls `explain`, which may throw a better
    /// error than the step's own (lab 10: the child's, once it runs beside the steps).
    void explainFailuresWith(std::function<void()> explain) { explain_ = std::move(explain); }

  private:
    Teardown& teardown_;
    std::function<void()> explain_;
};

/// Everything the steps share: the container as it is being built.
struct Container {
    const RunConfig& config;
    ContainerState state;
    rootfs::RootfsSpec root;                  // its root filesystem: --rootfs (02), an image (05)
    std::unique_ptr<cgroups::Cgroup> cgroup;  // lab 03
    std::optional<Attachment> attachment;     // lab 06: its place on a network
    RunVolumes volumes;                       // lab 09: its volumes, held while it runs
    ns::Child child;                          // pid -1 until cloned, and again once reaped
    UniqueFd report;                          // the child's report pipe: EOF once CMD runs
    UniqueFd go;                              // lab 10: the child's go to exec CMD
    UniqueFd consoleSocket;                   // lab 10, -t: the child sends its pty's master
    UniqueFd console;                         // lab 10, -t: the master, once CMD runs
    int interrupts = 0;                       // SIGINTs forwarded so far
    bool ran = false;                         // CMD started: the record is kept

    explicit Container(const RunConfig& c) : config(c) {
        state.id = c.id;
        state.hostname = c.hostname;
        state.rootfs = c.rootfs;
        state.image = c.image;
        root.rootfs = c.rootfs;
        state.command = c.command;
        state.createdAt = nowRfc3339();
    }

    void save() const { saveState(config.root, state); }

    // --- record the mount points (lab 08) -----------------------------------------------
    /// What the runtime mounts in the container, for a commit to leave out.
    void recordMountPoints() {
        state.mountPoints.clear();
        for (const rootfs::BindMount& bind : root.binds) state.mountPoints.push_back(bind.target);
        // Lab 09's volumes: mounted after the binds, through fds (volumes::mountVolumes()).
        for (const rootfs::BindMount& volume : root.volumes) {
            state.mountPoints.push_back(volume.target);
        }
        save();
    }

    // --- record the state ---------------------------------------------------------
    void record() {
        // Whoever holds the teardown: if it is killed, the next command sweeps up
        // (sweep.cpp).
        state.monitorPid = ::getpid();
        state.monitorStartTime = processStartTime(state.monitorPid);
        if constexpr (lab >= 10) {
            state.name = config.name;
            state.env = containerEnvironment(config);
            state.workingDir = config.workingDir;
            state.detached = config.detach;
            state.autoRemove = config.autoRemove;
            state.network = config.net;
            for (const portmap::PortMapping& port : config.ports) state.ports.push_back(port.str());
            if (config.limits.memoryBytes)
                state.memoryBytes = static_cast<std::int64_t>(*config.limits.memoryBytes);
            if (config.limits.cpus)
                state.nanoCpus = static_cast<std::int64_t>(*config.limits.cpus * 1e9);
            saveNewRecord(config.root, state);  // its name checked and taken under a lock
        } else {
            makeDirs(containerDir(config.root, config.id), 0700);
            save();
        }
        markLive(config.root, config.id);  // after the record: the sweep reads it
    }
    /// A container that never ran CMD is undone whole, its record too; one that ran
    /// keeps its record, as `docker ps -a` shows it.
    void forgetUnlessRan() const {
        if (ran) return;
        removeRecord(config.root, config.id);
        unmarkLive(config.root, config.id);
    }

    // --- clone the child in new namespaces ------------------------------------------
    void clone(int extraFlags) {
        Pipe pipe = makePipe();
        const int reportWrite = pipe.write.get();
        UniqueFd consoleWrite;
        if constexpr (lab >= 10) {
            if (config.tty) {
                int pair[2];
                if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
                    throw SysError("socketpair", "the container's terminal");
                }
                consoleSocket = UniqueFd(pair[0]);
                consoleWrite = UniqueFd(pair[1]);
            }
        }
        ChildIo io;
        io.report = reportWrite;
        io.console = consoleWrite ? consoleWrite.get() : -1;
        Pipe goPipe;  // lab 10: the child waits on it before it execs CMD
        if constexpr (lab >= 10) {
            goPipe = makePipe();
            io.go = goPipe.read.get();
            io.cgroupFiles = selfJoinFiles(*cgroup, config.id);
        }
        const int goWrite = goPipe.write ? goPipe.write.get() : -1;
        child = ns::spawnChild(ns::containerCloneFlags() | extraFlags, [this, &io, goWrite] {
            // Our copy of the go's write end, or the child never reads EOF on it.
            if (goWrite >= 0) ::close(goWrite);
            return childMain(config, root, io);
        });
        pipe.write.reset();    // only the child writes: we must see EOF when it execs
        consoleWrite.reset();  // the same: no fd sent means the socket reads EOF
        report = std::move(pipe.read);
        go = std::move(goPipe.write);
        state.pid = child.pid;
        state.pidStartTime = processStartTime(child.pid);
        log::debug("container {} is pid {}", shortId(config.id), child.pid);
    }
    void killChild() {
        if (child.pid <= 0) return;  // already reaped: its pid may be someone else's now
        ::kill(child.pid, SIGKILL);
        waitForPid(child.pid);
        child.pid = -1;
    }

    // --- the child's go (lab 10) ------------------------------------------------------
    /// The child's second go (lab 10): its network is wired, its ports published.
    void letItExec() {
        const char byte = 1;
        if (::write(go.get(), &byte, 1) != 1) throw SysError("write", "the child's go pipe");
        go.reset();
    }
    /// Lab 10: once the child runs beside the steps, a step may fail because the child
    /// did (its network namespace goes with it). Then the child's report, waiting in the
    /// pipe (it is written before the child exits), is the cause: thrown instead.
    void throwChildsReport() const {
        pollfd fd = {report.get(), POLLIN, 0};
        if (::poll(&fd, 1, 0) != 1 || (fd.revents & POLLIN) == 0) return;
        char buffer[1024];
        const ssize_t n = ::read(report.get(), buffer, sizeof buffer);
        if (n > 0) throw childsError({buffer, static_cast<std::size_t>(n)});
    }
    /// The error a child's report names: "<exit code> <message>", as its sendFailure wrote it.
    static ExecError childsError(const std::string& text) {
        const auto space = text.find(' ');
        const int code = std::atoi(text.substr(0, space).c_str());
        return ExecError(code, space == std::string::npos ? text : text.substr(space + 1));
    }

    // --- wait for CMD to start ------------------------------------------------------
    /// Reads the child's report until EOF: nothing means CMD is running (the pipe is
    /// close-on-exec); a report is the child's error, rethrown here with its exit code.
    /// SIGINT, SIGTERM or SIGHUP meanwhile kill the child and stop the start.
    void awaitExec(const UniqueFd& signalFd) {
        std::string text;
        std::optional<int> interrupted;
        pollfd fds[2] = {{report.get(), POLLIN, 0}, {signalFd.get(), POLLIN, 0}};
        for (;;) {
            if (::poll(fds, 2, -1) < 0) {
                if (errno == EINTR) continue;
                throw SysError("poll", "report pipe");
            }
            if (fds[1].revents != 0) {
                const int signal = signals::readSignal(signalFd);
                if (signals::isTermination(signal) && !interrupted) {
                    interrupted = signal;
                    ::kill(child.pid, SIGKILL);  // its report pipe closes: the loop ends
                }
            }
            if (fds[0].revents == 0) continue;
            char buffer[1024];
            const ssize_t n = ::read(report.get(), buffer, sizeof buffer);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) throw SysError("read", "report pipe");
            if (n == 0) break;
            text.append(buffer, static_cast<std::size_t>(n));
        }
        if (interrupted) throw signals::Interrupted(*interrupted);
        if (!text.empty()) throw childsError(text);
        if constexpr (lab >= 10) {
            // Sent before CMD's exec, waiting in the socket.
            if (consoleSocket) {
                console = pty::receiveFd(consoleSocket.get());
                consoleSocket.reset();
                if (!console) throw Error("the container's terminal never came");
            }
        }
        ran = true;
        state.status = "running";
        state.startedAt = nowRfc3339();
        save();
    }

    // --- wait for CMD to end --------------------------------------------------------
    /// Waits for PID 1 to exit, forwarding the signals the runtime gets to it (docker
    /// run's sig-proxy); the third SIGINT kills it. Returns its wait status.
    int awaitExit(const UniqueFd& signalFd) {
        if constexpr (lab >= 10) {
            if (console) {
                // -t: the caller's terminal raw while CMD runs, as it was after.
                const pty::RawMode raw;
                const int status = pty::relay(child.pid, console.get(), config.interactive,
                                              signalFd, [this](int signal) { forward(signal); });
                child.pid = -1;  // reaped
                return status;
            }
        }
        for (;;) {
            int status = 0;
            const pid_t done = ::waitpid(child.pid, &status, WNOHANG);
            if (done == child.pid) {
                child.pid = -1;
                return status;
            }
            if (done < 0 && errno != EINTR) throw SysError("waitpid", std::to_string(child.pid));
            // SIGCHLD is blocked and read here too: a child that ends wakes this read.
            const int signal = signals::readSignal(signalFd);
            if (signal != SIGCHLD) forward(signal);
        }
    }
    /// Passes a signal the runtime got on to PID 1; the third SIGINT kills it.
    void forward(int signal) {
        if (signal == SIGINT && ++interrupts >= kInterruptsBeforeKill) {
            log::warn("{} interrupts: killing the container", interrupts);
            ::kill(child.pid, SIGKILL);
            return;
        }
        // PID 1 of a namespace ignores a signal it has no handler for: SIGTERM
        // stops `sleep` only if it handles it (Docker's behaviour too).
        ::kill(child.pid, signal);
    }

    // --- read the OOM kill count (lab 04) --------------------------------------------
    /// Docker's semantics: the exit code stays PID 1's own. The state records any OOM
    /// kill in the cgroup; the report is printed only when PID 1 itself died of the
    /// SIGKILL and the cgroup counted an OOM kill (a SIGKILL from elsewhere is not one).
    void readOomKills(int status) {
        state.oomKilled = memory::oomKilled(*cgroup);
        if (state.oomKilled && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
            log::write(log::Level::error, "container was OOM-killed");
        }
    }

    // --- after the teardown ------------------------------------------------------------
    void recordExit(int exitCode) {
        state.status = "exited";
        state.exitCode = exitCode;
        state.finishedAt = nowRfc3339();
        if (config.autoRemove) {
            removeRecord(config.root, config.id);  // --rm (lab 10): its log too
        } else {
            save();
        }
        unmarkLive(config.root, config.id);
    }

    // --- hand over to the monitor (lab 10) --------------------------------------------
    /// In the monitor, once CMD runs: its log opened, the command line tool told, and
    /// the monitor's own fds 1 and 2 back to /dev/null, so that the container's pipes
    /// have no writer but the container (their EOF is its end).
    UniqueFd startLogging(DetachedIo& io) const {
        const std::string path = logPath(config.root, config.id);
        UniqueFd log(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640));
        if (!log) throw SysError("open", path);
        const UniqueFd null(::open("/dev/null", O_RDWR | O_CLOEXEC));
        if (!null || ::dup2(null.get(), STDOUT_FILENO) < 0 ||
            ::dup2(null.get(), STDERR_FILENO) < 0) {
            throw SysError("dup2", "/dev/null");
        }
        constexpr std::string_view kStarted = "0";
        if (::write(io.report.get(), kStarted.data(), kStarted.size()) < 0) {
            throw SysError("write", "report to the command line");
        }
        io.report.reset();
        return log;
    }
};

}  // namespace

int runContainer(const RunConfig& config, [[maybe_unused]] DetachedIo* detached) {
    Container c(config);
    const UniqueFd signalFd = signals::openSignalFd();
    Teardown teardown;  // a throw from here on undoes what was done
    Steps steps(teardown);

    steps.run(
        "record the state", [&] { c.record(); }, [&] { c.forgetUnlessRan(); });
    if constexpr (lab >= 5) {
        if (!config.image.empty()) {
            steps.run(
                "resolve the image, make upper/work", [&] { c.root = makeContainerLayers(config); },
                [&] { removeContainerLayers(config.root, config.id); });
        }
    }
    if constexpr (lab >= 9) {
        if (!config.volumes.empty()) {
            // Before the clone: the child mounts what its copy of the spec lists. Undone
            // after the child is gone, and with it its mount namespace and the volumes in it.
            steps.run(
                "make the volumes ready",
                [&] {
                    c.volumes.prepare(config, c.root, c.state);
                    c.save();  // the record names them (lab 08's commit leaves them out)
                },
                [&] { c.volumes.release(config.root, c.ran); });
        }
    }
    if constexpr (lab >= 3) {
        steps.run(
            "create the cgroup",
            [&] { c.cgroup = cgroups::createForContainer(config.id, config.limits); },
            [&] { c.cgroup->destroy(); });
    }
    if constexpr (lab >= 4) {
        if (config.limits.memoryBytes) {
            steps.run("limit memory",
                      [&] { memory::applyMemoryLimit(*c.cgroup, *config.limits.memoryBytes); });
        }
    }
    int netFlags = 0;
    if constexpr (lab >= 6) {
        const NetMode mode = netModeOf(config.net);
        if (mode != NetMode::host) netFlags = CLONE_NEWNET;
        if (mode == NetMode::bridge) {
            steps.run(
                "allocate an address",
                [&] {
                    c.attachment = allocateAddress(config.root, config.net, config.id);
                    c.state.ipAddress = c.attachment->endpoint.address.str();
                    c.state.gateway = c.attachment->endpoint.gateway.str();
                    c.save();
                },
                [&] { releaseAddresses(config.root, config.id); });
        }
        if (!c.root.rootfs.empty()) {
            // Before the clone: the child plans its mounts from its copy of the spec.
            steps.run("generate /etc/hosts and /etc/resolv.conf", [&] {
                addGeneratedEtcFiles(config.root, config.id, config.hostname, mode,
                                     c.attachment ? &*c.attachment : nullptr, c.root);
            });
        }
    }
    if constexpr (lab >= 8) {
        // Before the clone: by the time a commit can see the container, they are known.
        if (!c.root.binds.empty() || !c.root.volumes.empty()) {
            steps.run("record the mount points", [&] { c.recordMountPoints(); });
        }
    }
    steps.run(
        "clone the child in new namespaces", [&] { c.clone(netFlags); }, [&] { c.killChild(); });
    if constexpr (lab >= 10) {
        // It joins its cgroup and sets up its mounts while the next steps run.
        steps.run("release the child: it joins its cgroup, sets up its mounts",
                  [&] { ns::release(c.child); });
        steps.explainFailuresWith([&] { c.throwChildsReport(); });
    } else if constexpr (lab >= 3) {
        // Before it runs anything: every process it forks is born in the cgroup.
        steps.run("put it in the cgroup", [&] { c.cgroup->attach(c.child.pid); });
    }
    if constexpr (lab >= 6) {
        if (c.attachment) {
            c.attachment->endpoint.pid = c.child.pid;
            // Before the release: CMD finds its network ready, even a one-shot CMD.
            steps.run(
                "wire its network: veth, address, routes",
                [&] { network::connectContainer(c.attachment->endpoint); },
                [&] { network::disconnectContainer(c.attachment->endpoint); });
        } else if (netFlags != 0) {
            steps.run("bring up lo", [&] { bringUpLoopback(c.child.pid); });
        }
    }
    if constexpr (lab >= 7) {
        if (c.attachment && !config.ports.empty()) {
            // Once its eth0 is up, before CMD runs: its first client finds the port open.
            const portmap::Target target = portTarget(config.id, c.attachment->endpoint);
            steps.run(
                "publish ports: rules", [&] { publishContainerPorts(config.ports, target); },
                [&config, target] { unpublishContainerPorts(config.ports, target); });
        }
    }
    if constexpr (lab >= 10) {
        steps.run("let it exec CMD", [&] { c.letItExec(); });
    } else {
        steps.run("release the child", [&] { ns::release(c.child); });
    }
    c.awaitExec(signalFd);

    int status = 0;
    bool supervised = false;
    if constexpr (lab >= 10) {
        if (detached) {
            const UniqueFd log = c.startLogging(*detached);
            // -t: the pty's master is its output, logged as stdout (as Docker does).
            status = runtime::supervise(c.child.pid,
                                        c.console ? std::move(c.console) : std::move(detached->out),
                                        std::move(detached->err), log.get(), signalFd);
            c.child.pid = -1;  // reaped
            supervised = true;
        }
    }
    if (!supervised) status = c.awaitExit(signalFd);
    log::debug("CMD ended: {}", exitCodeOfStatus(status));
    if constexpr (lab >= 4) c.readOomKills(status);

    teardown.run();
    c.recordExit(exitCodeOfStatus(status));
    return exitCodeOfStatus(status);
}

}  // namespace mydocker::driver
