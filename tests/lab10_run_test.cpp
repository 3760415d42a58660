// Lab 10's graded tests: the complete runtime. Detached containers under a monitor, their
// log, exec, stop, kill, rm, names, the environment, and Docker's default hardening.
//
// Judged by kernel state read from the host (/proc/PID/ns/*, /proc/PID/status, the
// cgroup tree, kill(2) on a recorded pid), by the files the runtime keeps (state.json, the
// json-file log), and by what the probe sees inside. Each test removes its containers at
// the end (the fixture kills what is left and lets the runtime sweep), so the harness's
// leak check compares a clean host.
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "mydocker/error.hpp"
#include "mydocker/file.hpp"
#include "mydocker/process.hpp"
#include "mydocker/state.hpp"
#include "support/lab_test.hpp"

namespace mydocker::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

/// How long a detached container may take to start, or its monitor to record its end.
constexpr auto kSettle = 15s;

/// The capabilities a container keeps: Docker's default set without CAP_MKNOD (the
/// handout says why), as capability numbers (capabilities(7)).
const std::vector<int> kExpectedCaps = {
    CAP_CHOWN,      CAP_DAC_OVERRIDE, CAP_FSETID,      CAP_FOWNER,  CAP_NET_RAW,
    CAP_SETGID,     CAP_SETUID,       CAP_SETFCAP,     CAP_SETPCAP, CAP_NET_BIND_SERVICE,
    CAP_SYS_CHROOT, CAP_KILL,         CAP_AUDIT_WRITE,
};

std::uint64_t expectedCapMask() {
    std::uint64_t mask = 0;
    for (const int cap : kExpectedCaps) mask |= std::uint64_t{1} << cap;
    return mask;
}

/// The value of `Key:` in a /proc/PID/status text (e.g. "CapEff"), as a number (hex).
std::uint64_t statusHex(const std::string& status, const std::string& key) {
    const std::regex line(key + R"(:\s*([0-9a-f]+))");
    std::smatch m;
    if (!std::regex_search(status, m, line)) return ~std::uint64_t{0};
    return std::stoull(m[1].str(), nullptr, 16);
}

/// True while process `pid` exists and is not a zombie.
bool alive(pid_t pid) {
    if (pid <= 0) return false;
    try {
        const std::string stat = readFile(fmt::format("/proc/{}/stat", pid));
        const auto close = stat.rfind(')');
        return close != std::string::npos && stat.size() > close + 2 && stat[close + 2] != 'Z';
    } catch (const Error&) {
        return false;
    }
}

/// Reaps `pid` if it is a zombie child of the test's: a monitor or PID 1 orphaned by a
/// kill comes to the test's process (a subreaper) where init would reap it.
void reapOrphan(pid_t pid) {
    if (pid > 0) ::waitpid(pid, nullptr, WNOHANG);
}

/// Waits until `done()` or `timeout`; returns done().
template <class Done>
bool waitFor(Done&& done, std::chrono::milliseconds timeout = kSettle) {
    const auto deadline = Clock::now() + timeout;
    while (!done()) {
        if (Clock::now() > deadline) return false;
        std::this_thread::sleep_for(50ms);
    }
    return true;
}

/// What a run on a terminal gave: the text its terminal showed, its exit code, and
/// whether the terminal's settings were as before once it ended.
struct TerminalRun {
    std::string screen;
    int exitCode = -1;
    bool restored = false;
};

/// Runs `argv` on a new pty of 33 rows and 77 columns (its controlling terminal, in a
/// session of its own, as a shell in a terminal window runs it). When the screen shows
/// "ready", the window is resized to 44x99 (the kernel sends SIGWINCH) and, a moment
/// later, `input` is typed.
TerminalRun runOnTerminal(const std::vector<std::string>& argv, const std::string& input) {
    TerminalRun run;
    winsize size{};
    size.ws_row = 33;
    size.ws_col = 77;
    int master = -1;
    int peer = -1;
    if (::openpty(&master, &peer, nullptr, nullptr, &size) != 0) {
        ADD_FAILURE() << "openpty: " << std::strerror(errno);
        return run;
    }
    termios before{};
    ::tcgetattr(peer, &before);
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::setsid();
        ::ioctl(peer, TIOCSCTTY, 0);
        for (int fd = 0; fd <= 2; ++fd) ::dup2(peer, fd);
        ::close_range(3, ~0U, 0);
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    bool resized = false;
    const auto deadline = Clock::now() + 30s;
    std::optional<int> status;
    while (Clock::now() < deadline) {
        pollfd fd{master, POLLIN, 0};
        if (::poll(&fd, 1, 100) > 0) {
            char buffer[4096];
            const ssize_t n = ::read(master, buffer, sizeof buffer);
            if (n > 0) run.screen.append(buffer, static_cast<std::size_t>(n));
            continue;  // until nothing more comes
        }
        if (status) break;
        int wstatus = 0;
        if (::waitpid(pid, &wstatus, WNOHANG) == pid) {
            status = wstatus;
            continue;  // one more turn for what is still on its way
        }
        if (!resized && run.screen.find("ready") != std::string::npos) {
            resized = true;
            size.ws_row = 44;
            size.ws_col = 99;
            ::ioctl(master, TIOCSWINSZ, &size);
            std::this_thread::sleep_for(300ms);
            if (!input.empty()) {
                [[maybe_unused]] const ssize_t n = ::write(master, input.data(), input.size());
            }
        }
    }
    if (!status) {
        ::kill(pid, SIGKILL);
        int wstatus = 0;
        ::waitpid(pid, &wstatus, 0);
        ADD_FAILURE() << "the run on a terminal did not end in 30 s; its screen:\n" << run.screen;
    } else {
        run.exitCode = exitCodeOfStatus(*status);
    }
    termios after{};
    ::tcgetattr(peer, &after);
    run.restored = after.c_iflag == before.c_iflag && after.c_oflag == before.c_oflag &&
                   after.c_lflag == before.c_lflag && after.c_cflag == before.c_cflag;
    ::close(master);
    ::close(peer);
    return run;
}

class Lab10Run : public LabTest {
  protected:
    void SetUp() override {
        LabTest::SetUp();
        if (IsSkipped()) return;
        rootfs_ = makeRootfs();
    }

    void TearDown() override {
        if (!rootfs_.empty()) removeContainers();
        LabTest::TearDown();
    }

    /// `run -d --net none --rootfs R [flags] -- CMD...`: the id it printed ("" if none).
    RunResult runDetached(const std::vector<std::string>& flags,
                          const std::vector<std::string>& command) {
        std::vector<std::string> args = {"run", "-d", "--net", "none", "--rootfs", rootfs_};
        args.insert(args.end(), flags.begin(), flags.end());
        args.push_back("--");
        args.insert(args.end(), command.begin(), command.end());
        return lab(args);
    }

    /// The id a `run -d` printed, or "" with a failure.
    static std::string idOf(const RunResult& r) {
        static const std::regex id("[0-9a-f]{64}\n");
        if (r.exitCode != 0 || !std::regex_match(r.out, id)) {
            ADD_FAILURE() << "run -d did not print a container id:\n" << r;
            return "";
        }
        return r.out.substr(0, 64);
    }

    /// A detached `sleep 1000` (busybox's): a container that runs until stopped.
    std::string startSleeper(const std::vector<std::string>& flags = {}) {
        return idOf(runDetached(flags, {"/bin/sleep", "1000"}));
    }

    /// The container's record, as the runtime wrote it.
    nlohmann::json record(const std::string& id) const {
        return nlohmann::json::parse(readFile(statePath(root(), id)));
    }

    /// The container's PID 1 as the host sees it, once its record says it runs.
    pid_t pid1(const std::string& id) const {
        pid_t pid = 0;
        waitFor([&] {
            try {
                const auto r = record(id);
                if (r.at("status") == "running") pid = r.at("pid").get<pid_t>();
            } catch (const std::exception&) {
            }
            return pid > 0;
        });
        return pid;
    }

    /// Waits until the record says exited (its monitor recorded the end); its exit code.
    int exitCodeOf(const std::string& id) const {
        int code = -1;
        waitFor([&] {
            try {
                const auto r = record(id);
                if (r.at("status") == "exited") code = r.at("exitCode").get<int>();
            } catch (const std::exception&) {
            }
            return code >= 0;
        });
        return code;
    }

    /// Kills whatever the test left running (monitors first: their PID 1 dies with them),
    /// then lets the runtime sweep what they held, as its next command does.
    void removeContainers() {
        const std::string dir = joinPath(root(), "containers");
        if (!isDirectory(dir)) return;
        bool killed = false;
        for (const std::string& id : listDir(dir)) {
            try {
                const auto r = record(id);
                for (const char* key : {"monitorPid", "pid"}) {
                    const pid_t pid = r.value(key, 0);
                    const std::uint64_t start =
                        r.value(std::string(key) + "StartTime", std::uint64_t{0});
                    const std::string startKey =
                        key == std::string("pid") ? "pidStartTime" : "monitorStartTime";
                    if (processIsAlive(pid, r.value(startKey, start))) {
                        ::kill(pid, SIGKILL);
                        waitFor([&] { return !alive(pid); }, 5s);
                        reapOrphan(pid);
                        killed = true;
                    }
                }
            } catch (const std::exception&) {
            }
        }
        if (!killed) return;
        std::this_thread::sleep_for(100ms);
        while (::waitpid(-1, nullptr, WNOHANG) > 0) {
        }
        lab({"ps", "-a"});
    }

    std::string rootfs_;
};

// --- the monitor and detach -------------------------------------------------------------

/// `run -d` returns at once, with the id on a pipe that closes (no process of the runtime
/// keeps the caller's stdout); a kill of the caller's whole process group afterwards does
/// not reach the container, which runs on under its monitor, in a session of its own.
GRADED_TEST_F(Lab10Run, DetachReturnsAndSurvivesTheCallersGroup, 10) {
    int out[2];
    ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
    const std::vector<std::string> argv = {labBinary(), "--root", root(),       "run",
                                           "-d",        "--net",  "none",       "--rootfs",
                                           rootfs_,     "--",     "/bin/sleep", "1000"};
    const auto started = Clock::now();
    const pid_t cli = ::fork();
    ASSERT_GE(cli, 0);
    if (cli == 0) {
        ::setpgid(0, 0);
        ::dup2(out[1], STDOUT_FILENO);
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    ::setpgid(cli, cli);
    ::close(out[1]);
    // Read to EOF: it comes only once every holder of the pipe's write end is gone.
    std::string text;
    bool eof = false;
    while (Clock::now() - started < 10s) {
        pollfd fd = {out[0], POLLIN, 0};
        if (::poll(&fd, 1, 100) <= 0) continue;
        char buffer[256];
        const ssize_t n = ::read(out[0], buffer, sizeof buffer);
        if (n <= 0) {
            eof = n == 0;
            break;
        }
        text.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(out[0]);
    const auto elapsed = Clock::now() - started;
    ::kill(-cli, SIGKILL);  // the caller's group, as a closed terminal or a CI job ends it
    const int status = waitForPid(cli);
    ASSERT_TRUE(eof) << "run -d kept its stdout open past 10 s (a process of the runtime holds "
                        "the caller's pipe: `id=$(lab10 run -d ...)` would hang)";
    EXPECT_LT(elapsed, 10s);
    ASSERT_EQ(exitCodeOfStatus(status), 0) << "run -d: " << text;
    ASSERT_TRUE(std::regex_match(text, std::regex("[0-9a-f]{64}\n"))) << "printed: " << text;
    const std::string id = text.substr(0, 64);

    const pid_t pid = pid1(id);
    ASSERT_GT(pid, 0) << "no running record for " << id;
    std::this_thread::sleep_for(300ms);
    EXPECT_TRUE(alive(pid)) << "the container died with the caller's process group";
    const auto r = record(id);
    const pid_t monitor = r.at("monitorPid").get<pid_t>();
    EXPECT_TRUE(alive(monitor)) << "its monitor died with the caller's process group";
    EXPECT_NE(::getsid(monitor), ::getsid(0)) << "the monitor is in the caller's session";
    EXPECT_NE(::getpgid(monitor), cli) << "the monitor is in the caller's process group";
    // The monitor is PID 1's parent: it reaps it and records its end.
    const std::string stat = readFile(fmt::format("/proc/{}/stat", pid));
    const auto fields = stat.substr(stat.rfind(')') + 2);
    EXPECT_EQ(std::stoi(fields.substr(2)), monitor) << "PID 1's parent is not the monitor";

    EXPECT_EQ(lab({"rm", "-f", id}).exitCode, 0);
    EXPECT_FALSE(alive(pid));
}

/// A monitor killed with SIGKILL cannot tear down: the next command finds its container
/// (monitor gone by pid and start time), marks it exited and undoes what it held.
GRADED_TEST_F(Lab10Run, MonitorKilledIsSweptByTheNextCommand, 8) {
    const std::string id = startSleeper({"-m", "32m"});
    ASSERT_FALSE(id.empty());
    const pid_t pid = pid1(id);
    ASSERT_GT(pid, 0);
    ASSERT_FALSE(newCgroupDirs().empty()) << "no cgroup for the container";
    const pid_t monitor = record(id).at("monitorPid").get<pid_t>();
    ASSERT_EQ(::kill(monitor, SIGKILL), 0);
    ASSERT_TRUE(waitFor([&] { return !alive(monitor) && !alive(pid); }, 10s))
        << "the monitor or PID 1 outlived a SIGKILL of the monitor";
    // Orphans come to the test (a subreaper) instead of init: reap them as init would.
    reapOrphan(monitor);
    reapOrphan(pid);

    const RunResult ps = lab({"ps", "-a"});
    ASSERT_EQ(ps.exitCode, 0) << ps;
    EXPECT_NE(ps.out.find("Exited (137)"), std::string::npos) << ps;
    EXPECT_EQ(record(id).at("status"), "exited");
    EXPECT_TRUE(newCgroupDirs().empty()) << "the swept container's cgroup is still there";
    EXPECT_FALSE(pathExists(joinPath(root(), "live/" + id)));
}

// A --rm container whose monitor was killed goes whole with the sweep, as its monitor
// would have removed it: no record, no log, no cgroup.
TEST_F(Lab10Run, AutoRemoveContainerOfAKilledMonitorIsRemovedBySweep) {
    const std::string id = startSleeper({"--rm"});
    ASSERT_FALSE(id.empty());
    const pid_t pid = pid1(id);
    ASSERT_GT(pid, 0);
    const pid_t monitor = record(id).at("monitorPid").get<pid_t>();
    ASSERT_EQ(::kill(monitor, SIGKILL), 0);
    ASSERT_TRUE(waitFor([&] { return !alive(monitor) && !alive(pid); }, 10s));
    reapOrphan(monitor);
    reapOrphan(pid);
    const RunResult ps = lab({"ps", "-a"});
    ASSERT_EQ(ps.exitCode, 0) << ps;
    EXPECT_EQ(ps.out.find(id.substr(0, 12)), std::string::npos) << ps;
    EXPECT_FALSE(pathExists(containerDir(root(), id))) << "the --rm container's record stayed";
    EXPECT_TRUE(newCgroupDirs().empty());
}

// --- logs -------------------------------------------------------------------------------

/// The log has both streams, line by line in the order written, in Docker's json-file
/// format; `logs` gives each line back on its stream, after the exit too; --tail; gone with rm.
GRADED_TEST_F(Lab10Run, LogsHaveBothStreamsInOrderAfterExit, 10) {
    const std::string id = idOf(runDetached(
        {}, {"/bin/sh", "-c",
             "echo out1; sleep 0.2; echo err1 >&2; sleep 0.2; echo out2; printf tail >&2"}));
    ASSERT_FALSE(id.empty());
    ASSERT_EQ(exitCodeOf(id), 0);

    const std::string file = joinPath(containerDir(root(), id), id + "-json.log");
    ASSERT_TRUE(pathExists(file)) << "no log at " << file;
    std::vector<nlohmann::json> lines;
    for (const auto& line : RunResult{"", 0, false, readFile(file), ""}.outLines()) {
        lines.push_back(nlohmann::json::parse(line));
    }
    ASSERT_EQ(lines.size(), 4u) << readFile(file);
    const std::vector<std::pair<std::string, std::string>> expected = {
        {"out1\n", "stdout"}, {"err1\n", "stderr"}, {"out2\n", "stdout"}, {"tail", "stderr"}};
    for (std::size_t i = 0; i < lines.size(); ++i) {
        EXPECT_EQ(lines[i].at("log"), expected[i].first) << "line " << i;
        EXPECT_EQ(lines[i].at("stream"), expected[i].second) << "line " << i;
        EXPECT_TRUE(std::regex_match(lines[i].at("time").get<std::string>(),
                                     std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z)")))
            << lines[i];
    }

    const RunResult logs = lab({"logs", id.substr(0, 12)});
    ASSERT_EQ(logs.exitCode, 0) << logs;
    EXPECT_EQ(logs.out, "out1\nout2\n");
    EXPECT_EQ(logs.err, "err1\ntail");
    const RunResult tail = lab({"logs", "--tail", "1", id});
    EXPECT_EQ(tail.out + tail.err, "tail") << tail;

    ASSERT_EQ(lab({"rm", id}).exitCode, 0);
    EXPECT_FALSE(pathExists(file)) << "the log outlived rm";
    EXPECT_EQ(lab({"logs", id}).exitCode, 125);
}

// --- exec -------------------------------------------------------------------------------

/// exec's process is in every namespace of the container and in its cgroup, with its
/// capabilities and environment plus -e; its exit code comes back.
GRADED_TEST_F(Lab10Run, ExecJoinsNamespacesCgroupCapsAndEnv, 10) {
    const std::string id = startSleeper({"-e", "FROM_RUN=1", "--name", "box"});
    ASSERT_FALSE(id.empty());
    const pid_t pid = pid1(id);
    ASSERT_GT(pid, 0);

    const RunResult ns = lab({"exec", "box", "/probe", "ns"});
    ASSERT_EQ(ns.exitCode, 0) << ns;
    for (const char* name : {"uts", "pid", "mnt", "ipc", "net", "cgroup"}) {
        EXPECT_EQ(ns.value(name), nsLink(pid, name))
            << "exec is not in the container's " << name << " namespace\n"
            << ns;
    }
    // Both read from the same place: the container's view of its own cgroup, and of PID 1's.
    const RunResult own = lab({"exec", "box", "/probe", "cgroup"});
    const RunResult ofPid1 = lab({"exec", "box", "/probe", "read", "/proc/1/cgroup"});
    ASSERT_EQ(own.exitCode, 0) << own;
    EXPECT_EQ(own.out, ofPid1.out) << "exec's cgroups differ from PID 1's";
    EXPECT_FALSE(own.out.empty());

    const RunResult status = lab({"exec", id.substr(0, 10), "/probe", "read", "/proc/self/status"});
    ASSERT_EQ(status.exitCode, 0) << status;
    const std::string host = readFile(fmt::format("/proc/{}/status", pid));
    for (const char* key : {"CapEff", "CapPrm", "CapBnd"}) {
        EXPECT_EQ(statusHex(status.out, key), statusHex(host, key)) << key;
    }
    EXPECT_EQ(statusHex(status.out, "Seccomp"), statusHex(host, "Seccomp"));

    const RunResult env = lab({"exec", "-e", "FROM_EXEC=2", "box", "/probe", "env"});
    ASSERT_EQ(env.exitCode, 0) << env;
    EXPECT_EQ(env.value("FROM_RUN"), "1") << env;
    EXPECT_EQ(env.value("FROM_EXEC"), "2") << env;

    EXPECT_EQ(lab({"exec", "box", "/probe", "exit", "7"}).exitCode, 7);
    EXPECT_EQ(lab({"exec", "box", "/no/such/command"}).exitCode, 127);
    EXPECT_TRUE(alive(pid)) << "exec disturbed PID 1";
    EXPECT_EQ(lab({"rm", "-f", "box"}).exitCode, 0);
}

// --- stop, kill, rm -------------------------------------------------------------------------

/// `stop -t 2` on a PID 1 that ignores SIGTERM (sleep) takes about 2 s, records 137, and
/// the old pid is gone; ps shows it as Exited (137); its cgroup is gone.
GRADED_TEST_F(Lab10Run, StopEscalatesToKillAfterTheGracePeriod, 10) {
    const std::string id = startSleeper();
    ASSERT_FALSE(id.empty());
    const pid_t pid = pid1(id);
    ASSERT_GT(pid, 0);
    const RunResult running = lab({"ps"});
    EXPECT_NE(running.out.find(id.substr(0, 12)), std::string::npos) << running;
    EXPECT_NE(running.out.find("Up "), std::string::npos) << running;

    const auto started = Clock::now();
    const RunResult stop = lab({"stop", "-t", "2", id});
    const auto elapsed = Clock::now() - started;
    ASSERT_EQ(stop.exitCode, 0) << stop;
    EXPECT_GE(elapsed, 1800ms) << "SIGKILL came before the grace period was over";
    EXPECT_LT(elapsed, 8s) << "stop took far longer than its grace period";
    EXPECT_NE(::kill(pid, 0), 0) << "the old PID 1 is still there after stop returned";
    EXPECT_EQ(errno, ESRCH);
    const auto r = record(id);
    EXPECT_EQ(r.at("status"), "exited");
    EXPECT_EQ(r.at("exitCode"), 137);
    EXPECT_TRUE(newCgroupDirs().empty()) << "the stopped container's cgroup is still there";
    const RunResult ps = lab({"ps"});
    EXPECT_EQ(ps.out.find(id.substr(0, 12)), std::string::npos) << "ps lists a stopped container";
    const RunResult all = lab({"ps", "-a"});
    EXPECT_NE(all.out.find("Exited (137)"), std::string::npos) << all;
    const RunResult inspect = lab({"inspect", id});
    ASSERT_EQ(inspect.exitCode, 0) << inspect;
    const auto document = nlohmann::json::parse(inspect.out).at(0);
    EXPECT_EQ(document.at("Id"), id);
    EXPECT_EQ(document.at("State").at("ExitCode"), 137);
    EXPECT_EQ(document.at("State").at("Status"), "exited");
}

/// `kill` signals PID 1 through its recorded identity: SIGKILL ends it (137); and once
/// the pid belongs to another process (a record forged to say so), neither `kill` nor
/// `stop` touches that process.
GRADED_TEST_F(Lab10Run, KillNeverSignalsAReusedPid, 6) {
    const std::string id = startSleeper();
    ASSERT_FALSE(id.empty());
    const pid_t pid = pid1(id);
    ASSERT_GT(pid, 0);
    const RunResult kill = lab({"kill", "-s", "KILL", id});
    ASSERT_EQ(kill.exitCode, 0) << kill;
    EXPECT_EQ(exitCodeOf(id), 137);
    EXPECT_TRUE(waitFor([&] { return !alive(pid); }));

    // A bystander with the container's old pid, as after a wrap-around: the record below
    // says "running" with the bystander's pid but PID 1's start time.
    const pid_t bystander = ::fork();
    ASSERT_GE(bystander, 0);
    if (bystander == 0) {
        ::alarm(60);
        ::pause();
        ::_exit(0);
    }
    auto forged = record(id);
    ASSERT_TRUE(waitFor([&] { return !alive(record(id).at("monitorPid").get<pid_t>()); }));
    forged = record(id);
    forged["status"] = "running";
    forged["pid"] = bystander;
    writeFileAtomic(statePath(root(), id), forged.dump());
    lab({"kill", "-s", "TERM", id});
    lab({"stop", "-t", "0", id});
    std::this_thread::sleep_for(200ms);
    EXPECT_TRUE(alive(bystander))
        << "a process that only has the container's old pid was signalled";
    ::kill(bystander, SIGKILL);
    waitForPid(bystander);
}

/// --rm: once CMD ends, nothing is left: no record, no log, no address in the network's
/// records, no host veth, no cgroup. rm refuses a running container without -f.
GRADED_TEST_F(Lab10Run, RmAndAutoRemoveLeaveNothing, 8) {
    const RunResult r = lab({"run", "-d", "--rm", "--rootfs", rootfs_, "--", "/bin/sleep", "1"});
    const std::string id = idOf(r);
    ASSERT_FALSE(id.empty());
    ASSERT_TRUE(waitFor([&] { return !pathExists(containerDir(root(), id)); }))
        << "--rm left the container's directory";
    EXPECT_TRUE(newCgroupDirs().empty());
    const auto network = nlohmann::json::parse(readFile(joinPath(root(), "networks/bridge.json")));
    EXPECT_EQ(network.dump().find(id.substr(0, 12)), std::string::npos)
        << "the network still records an address for it: " << network.dump();
    const RunResult links = lab({"ps", "-a"});
    EXPECT_EQ(links.out.find(id.substr(0, 12)), std::string::npos) << links;
    const ProcessResult ip = runProcess({"ip", "-o", "link", "show"});
    EXPECT_EQ(ip.out.find(id.substr(0, 8)), std::string::npos) << ip.out;

    const std::string running = startSleeper();
    ASSERT_FALSE(running.empty());
    const RunResult refused = lab({"rm", running});
    EXPECT_EQ(refused.exitCode, 125) << refused;
    expectOneErrorLine(refused, "running");
    EXPECT_TRUE(pathExists(containerDir(root(), running)));
    const pid_t pid = pid1(running);
    EXPECT_EQ(lab({"rm", "-f", running}).exitCode, 0);
    EXPECT_FALSE(alive(pid));
    EXPECT_FALSE(pathExists(containerDir(root(), running)));
    EXPECT_TRUE(newCgroupDirs().empty());
}

/// Names: unique while the container exists, free again once it is removed; a verb takes
/// the name, the full id or a unique prefix.
GRADED_TEST_F(Lab10Run, NamesAreUniqueAndReusableAfterRm, 6) {
    const std::string id = startSleeper({"--name", "web"});
    ASSERT_FALSE(id.empty());
    const RunResult duplicate = runDetached({"--name", "web"}, {"/bin/true"});
    EXPECT_EQ(duplicate.exitCode, 125) << duplicate;
    expectOneErrorLine(duplicate, "web");
    EXPECT_EQ(listDir(joinPath(root(), "containers")).size(), 1u) << "a refused run left a record";
    for (const std::string& ref : {std::string("web"), id, id.substr(0, 5)}) {
        const RunResult inspect = lab({"inspect", ref});
        ASSERT_EQ(inspect.exitCode, 0) << inspect;
        EXPECT_EQ(nlohmann::json::parse(inspect.out).at(0).at("Id"), id) << ref;
        EXPECT_EQ(nlohmann::json::parse(inspect.out).at(0).at("Name"), "/web") << ref;
    }
    ASSERT_EQ(lab({"rm", "-f", "web"}).exitCode, 0);
    const RunResult again = lab({"run", "--name", "web", "--net", "none", "--rootfs", rootfs_, "--",
                                 "/probe", "exit", "3"});
    EXPECT_EQ(again.exitCode, 3) << again;
}

// --- environment and fds -------------------------------------------------------------------

/// The container's environment: -e K=V, -e K (the caller's value), PATH and HOSTNAME;
/// nothing else of the caller's.
GRADED_TEST_F(Lab10Run, EnvironmentHasOnlyWhatWasGiven, 4) {
    ::setenv("MYDOCKER_HOST_ONLY", "secret", 1);
    ::setenv("MYDOCKER_PASSED", "passed", 1);
    const RunResult r = lab({"run", "--net", "none", "--rootfs", rootfs_, "-e", "A=1", "-e",
                             "MYDOCKER_PASSED", "-e", "A=2", "--", "/probe", "env"});
    ::unsetenv("MYDOCKER_HOST_ONLY");
    ::unsetenv("MYDOCKER_PASSED");
    ASSERT_EQ(r.exitCode, 0) << r;
    EXPECT_FALSE(r.has("MYDOCKER_HOST_ONLY")) << "the caller's environment leaked in\n" << r;
    EXPECT_EQ(r.value("MYDOCKER_PASSED"), "passed") << r;
    EXPECT_EQ(r.value("A"), "2") << "the last -e of a name wins\n" << r;
    EXPECT_TRUE(r.has("PATH")) << r;
    EXPECT_TRUE(r.has("HOSTNAME")) << r;
}

/// A detached PID 1 holds fds 0, 1 and 2 only: nothing of the runtime or the monitor.
GRADED_TEST_F(Lab10Run, DetachedPid1HoldsOnlyItsStdio, 4) {
    const std::string id = startSleeper();
    ASSERT_FALSE(id.empty());
    const pid_t pid = pid1(id);
    ASSERT_GT(pid, 0);
    EXPECT_EQ(listDir(fmt::format("/proc/{}/fd", pid)), (std::vector<std::string>{"0", "1", "2"}));
    EXPECT_EQ(lab({"rm", "-f", id}).exitCode, 0);
}

// --- hardening --------------------------------------------------------------------------------

/// Every capability set of CMD is Docker's default (without CAP_MKNOD); the ambient set is
/// empty.
GRADED_TEST_F(Lab10Run, CapabilitiesAreDockersDefault, 6) {
    const RunResult r = lab(
        {"run", "--net", "none", "--rootfs", rootfs_, "--", "/probe", "read", "/proc/self/status"});
    ASSERT_EQ(r.exitCode, 0) << r;
    for (const char* key : {"CapEff", "CapPrm", "CapBnd", "CapInh"}) {
        EXPECT_EQ(statusHex(r.out, key), expectedCapMask()) << fmt::format(
            "{} is {:016x}, expected {:016x}", key, statusHex(r.out, key), expectedCapMask());
    }
    EXPECT_EQ(statusHex(r.out, "CapAmb"), 0u);
}

/// Docker's masked paths show nothing of the host; /proc/sys and /proc/sysrq-trigger are
/// read-only.
GRADED_TEST_F(Lab10Run, MaskedPathsAreEmptyAndProcSysReadOnly, 6) {
    const auto inside = [&](std::vector<std::string> probe) {
        std::vector<std::string> args = {"run",   "--net", "none",  "--rootfs",
                                         rootfs_, "--",    "/probe"};
        args.insert(args.end(), probe.begin(), probe.end());
        return lab(args);
    };
    for (const char* file : {"/proc/keys", "/proc/timer_list", "/proc/kcore"}) {
        if (!pathExists(file)) continue;
        const RunResult r = inside({"read", file});
        EXPECT_TRUE(r.exitCode != 0 || r.out.empty()) << file << " is readable inside\n" << r;
    }
    if (isDirectory("/sys/firmware")) {
        const RunResult r = inside({"ls", "/sys/firmware"});
        ASSERT_EQ(r.exitCode, 0) << r;
        EXPECT_FALSE(r.has("entry")) << "/sys/firmware shows the host's\n" << r;
    }
    const RunResult core = inside({"write", "/proc/sys/kernel/core_pattern", "|/tmp/x"});
    EXPECT_NE(core.exitCode, 0) << "/proc/sys is writable inside\n" << core;
    EXPECT_NE(core.err.find("Read-only"), std::string::npos) << core;
    const RunResult sysrq = inside({"write", "/proc/sysrq-trigger", "h"});
    EXPECT_NE(sysrq.exitCode, 0) << "/proc/sysrq-trigger is writable inside\n" << sysrq;
}

/// What Docker's seccomp profile and capabilities forbid fails with EPERM: add_key(2), a
/// second /proc, a cgroup hierarchy (to raise its own limits), a node of the host's disk.
GRADED_TEST_F(Lab10Run, DeniedSyscallsMountsAndDevicesFailWithEperm, 6) {
    const auto inside = [&](std::vector<std::string> probe) {
        std::vector<std::string> args = {"run",      "--net", "none", "-m",    "32m",
                                         "--rootfs", rootfs_, "--",   "/probe"};
        args.insert(args.end(), probe.begin(), probe.end());
        return lab(args);
    };
    const RunResult key = inside({"add-key"});
    ASSERT_EQ(key.exitCode, 0) << key;
    EXPECT_EQ(key.value("errno"), std::to_string(EPERM)) << "add_key(2) is not denied\n" << key;
    const RunResult proc = inside({"mount-proc", "/tmp"});
    EXPECT_EQ(proc.value("errno"), std::to_string(EPERM)) << proc;
    const RunResult cgroup = inside({"mount-cgroup", "/tmp"});
    EXPECT_EQ(cgroup.value("errno"), std::to_string(EPERM)) << cgroup;
    // The device of the host's root filesystem.
    struct stat st {};
    ASSERT_EQ(::stat("/", &st), 0);
    const RunResult disk =
        inside({"mknod", "/tmp/disk", fmt::format("{}:{}", major(st.st_dev), minor(st.st_dev))});
    EXPECT_EQ(disk.value("errno"), std::to_string(EPERM)) << "the host's disk is reachable\n"
                                                          << disk;
}

// --- bad input --------------------------------------------------------------------------------

/// Bad input is one error line and exit 125: an unknown container for every verb, a bad
/// name, a negative stop time, exec into a stopped container.
GRADED_TEST_F(Lab10Run, BadInputIsRefused, 6) {
    const std::string id = idOf(runDetached({}, {"/probe", "exit", "0"}));
    ASSERT_FALSE(id.empty());
    ASSERT_EQ(exitCodeOf(id), 0);
    const RunResult stopped = lab({"exec", id, "/probe", "pid"});
    EXPECT_EQ(stopped.exitCode, 125) << stopped;
    expectOneErrorLine(stopped, "not running");
    const RunResult time = lab({"stop", "-t", "-1", id});
    EXPECT_EQ(time.exitCode, 125) << time;
    expectOneErrorLine(time, "-t");
    for (const std::vector<std::string>& args : {std::vector<std::string>{"logs", "nosuch"},
                                                 {"stop", "nosuch"},
                                                 {"kill", "nosuch"},
                                                 {"rm", "nosuch"},
                                                 {"inspect", "nosuch"},
                                                 {"exec", "nosuch", "/probe"}}) {
        const RunResult r = lab(args);
        EXPECT_EQ(r.exitCode, 125) << r;
        expectOneErrorLine(r, "nosuch");
    }
    ASSERT_EQ(lab({"rm", id}).exitCode, 0);
    const RunResult name = runDetached({"--name", "a/b"}, {"/bin/true"});
    expectRejected(name, "a/b");
}

// --- terminals (given code: the pty relay) -------------------------------------------------

// `run -it`: CMD's fds 0-2 are a pty of the container's own devpts (/dev/pts/0), of the
// caller's window size, and of the new size after SIGWINCH; typed keys reach it through
// the caller's terminal in raw mode, restored at the end; the exit code is CMD's.
// `exec -t` gives the command a pty of the container's devpts too.
TEST_F(Lab10Run, TtyIsAPtyOfTheContainersOwnThatFollowsTheCallersTerminal) {
    const TerminalRun run =
        runOnTerminal({labBinary(), "--root", root(), "run", "-it", "--net", "none", "--rootfs",
                       rootfs_, "--", "/bin/sh", "-c",
                       "tty; stty size; echo ready; read line; stty size; echo got:$line; exit 3"},
                      "hello\n");
    EXPECT_EQ(run.screen, "/dev/pts/0\r\n33 77\r\nready\r\nhello\r\n44 99\r\ngot:hello\r\n");
    EXPECT_EQ(run.exitCode, 3);
    EXPECT_TRUE(run.restored) << "expected the caller's terminal settings back after the run";

    const std::string id = startSleeper();
    ASSERT_FALSE(id.empty());
    const TerminalRun exec = runOnTerminal({labBinary(), "--root", root(), "exec", "-t", id,
                                            "/bin/sh", "-c", "tty; stty size; exit 4"},
                                           "");
    EXPECT_TRUE(std::regex_match(exec.screen, std::regex("/dev/pts/[0-9]+\r\n33 77\r\n")))
        << exec.screen;
    EXPECT_EQ(exec.exitCode, 4);
    EXPECT_TRUE(exec.restored);
}

// `ps` and `inspect` show what -p and -v gave, in Docker's formats: PORTS
// "0.0.0.0:17093->80/tcp, 127.0.0.1:17094->53/udp"; HostConfig.PortBindings (HostIp ""
// for every address), NetworkSettings.Ports while it runs, HostConfig.Binds.
TEST_F(Lab10Run, PsAndInspectShowPublishedPortsAndBinds) {
    const std::string dir = makeTempDir();
    const std::string id =
        idOf(lab({"run", "-d", "--name", "shown", "-p", "17093:80", "-p", "127.0.0.1:17094:53/udp",
                  "-v", dir + ":/data:ro", "--rootfs", rootfs_, "--", "/bin/sleep", "1000"}));
    ASSERT_FALSE(id.empty());
    const RunResult ps = lab({"ps"});
    EXPECT_NE(ps.out.find("0.0.0.0:17093->80/tcp, 127.0.0.1:17094->53/udp"), std::string::npos)
        << ps;
    const RunResult inspect = lab({"inspect", "shown"});
    ASSERT_EQ(inspect.exitCode, 0) << inspect;
    const nlohmann::json document = nlohmann::json::parse(inspect.out).at(0);
    EXPECT_EQ(document["HostConfig"]["PortBindings"],
              nlohmann::json::parse(R"({"80/tcp": [{"HostIp": "", "HostPort": "17093"}],
                                        "53/udp": [{"HostIp": "127.0.0.1", "HostPort": "17094"}]})"));
    EXPECT_EQ(document["NetworkSettings"]["Ports"]["80/tcp"],
              nlohmann::json::parse(R"([{"HostIp": "0.0.0.0", "HostPort": "17093"}])"));
    EXPECT_EQ(document["HostConfig"]["Binds"], nlohmann::json::array({dir + ":/data:ro"}));
}

}  // namespace
}  // namespace mydocker::test
