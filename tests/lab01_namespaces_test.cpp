// Lab 01's graded tests: `run [--hostname NAME] -- CMD [ARG...]` on the host's root.
//
// The checklist of the lab, one test each: the container gets its own UTS, PID, mount
// and IPC namespaces; its hostname is the one asked for (or its short id); CMD is PID 1
// and its /proc shows only the container; nothing is mounted on the host; the exit code
// is docker run's; bad input is refused with 125 and one error line.
//
// Everything is judged by the kernel (/proc/PID/ns, /proc/PID/mountinfo, /proc/PID/status)
// or by the probe running as CMD, never by what the runtime says about itself.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <regex>
#include <string>
#include <vector>

#include "mydocker/file.hpp"
#include "support/lab_test.hpp"

namespace mydocker::test {
namespace {

/// The namespaces a lab 01 container must not share with the host.
const std::vector<std::string> kOwnNamespaces = {"uts", "pid", "mnt", "ipc"};

/// The longest hostname the kernel accepts (HOST_NAME_MAX).
constexpr std::size_t kMaxHostname = 64;

/// A container's default hostname: its short id, 12 hex digits (as docker's).
const std::regex kShortId("[0-9a-f]{12}");

/// Exit codes of docker run (DESIGN.md).
constexpr int kRuntimeFailure = 125;
constexpr int kNotExecutable = 126;
constexpr int kNotFound = 127;
constexpr int kSignalBase = 128;

class Lab01Namespaces : public LabTest {
  protected:
};

// The container lives in new UTS, PID, mount and IPC namespaces: the inodes behind
// /proc/PID/ns/* differ from the host's.
GRADED_TEST_F(Lab01Namespaces, ContainerHasItsOwnUtsPidMountAndIpcNamespaces, 12) {
    auto held = startHeld({});
    ASSERT_TRUE(held.started());
    for (const auto& ns : kOwnNamespaces) {
        const std::string host = nsLink(::getpid(), ns);
        const std::string container = nsLink(held.hostPid(), ns);
        EXPECT_NE(container, host) << "expected the container's " << ns
                                   << " namespace to differ from the host's; both are " << host;
    }
    const RunResult r = held.wait();
    EXPECT_EQ(r.exitCode, 0) << "expected the held container to exit 0 once released" << r;
}

// --hostname NAME sets the hostname inside, up to the kernel's 64 characters.
GRADED_TEST_F(Lab01Namespaces, HostnameIsTheOneAskedFor, 8) {
    for (const std::string& name :
         {std::string("box-01.example"), std::string(kMaxHostname, 'h')}) {
        const RunResult r = runProbe({"--hostname", name}, {"hostname"});
        ASSERT_EQ(r.exitCode, 0) << "expected `run --hostname " << name << "` to succeed" << r;
        EXPECT_EQ(r.value("hostname"), name) << "expected the hostname inside to be " << name << r;
    }
}

// Without --hostname the container is named after its short id: 12 hex digits, the
// first 12 of the id its state directory is named after, new for every container.
GRADED_TEST_F(Lab01Namespaces, HostnameDefaultsToTheShortId, 5) {
    std::vector<std::string> names;
    for (int i = 0; i < 2; ++i) {
        const RunResult r = runProbe({}, {"hostname"});
        ASSERT_EQ(r.exitCode, 0) << r;
        const std::string name = r.value("hostname");
        ASSERT_TRUE(std::regex_match(name, kShortId))
            << "expected a default hostname of 12 hex digits, found \"" << name << "\"" << r;
        names.push_back(name);
    }
    EXPECT_NE(names[0], names[1]) << "expected every container to get its own id";
    const std::string containers = joinPath(root(), "containers");
    if (isDirectory(containers)) {
        const auto ids = listDir(containers);
        for (const auto& name : names) {
            EXPECT_TRUE(std::any_of(ids.begin(), ids.end(),
                                    [&](const std::string& id) { return id.rfind(name, 0) == 0; }))
                << "expected the hostname " << name << " to be the start of a container id in "
                << containers << ", found " << ::testing::PrintToString(ids);
        }
    }
}

// Setting the container's hostname leaves the host's alone, while it runs and after.
GRADED_TEST_F(Lab01Namespaces, HostHostnameIsUnchanged, 5) {
    const std::string host = hostHostname();
    const std::string other = host == "lab01-other" ? "lab01-another" : "lab01-other";
    auto held = startHeld({"--hostname", other});
    ASSERT_TRUE(held.started());
    EXPECT_EQ(hostHostname(), host) << "expected the host's hostname unchanged while it runs";
    const RunResult r = held.wait();
    EXPECT_EQ(r.exitCode, 0) << r;

    const RunResult named = runProbe({"--hostname", other}, {"hostname"});
    ASSERT_EQ(named.exitCode, 0) << named;
    EXPECT_EQ(named.value("hostname"), other) << named;
    EXPECT_EQ(hostHostname(), host) << "expected the host's hostname unchanged after the run";
}

// CMD is PID 1 of the new PID namespace (and has no parent there); the host sees it
// under its own pid, as the last-but-one link of its NSpid chain.
GRADED_TEST_F(Lab01Namespaces, CommandIsPid1, 10) {
    const RunResult r = runProbe({}, {"pid"});
    ASSERT_EQ(r.exitCode, 0) << r;
    EXPECT_EQ(r.value("pid"), "1") << "expected CMD to be PID 1 in its namespace" << r;
    EXPECT_EQ(r.value("ppid"), "0") << "expected PID 1 to have no parent in its namespace" << r;

    auto held = startHeld({});
    ASSERT_TRUE(held.started());
    // NSpid: the pid in each namespace from the host's down to the container's own.
    std::smatch nspid;
    const std::string status = readProcFile(std::to_string(held.hostPid()) + "/status");
    ASSERT_TRUE(std::regex_search(status, nspid, std::regex("NSpid:([\\t 0-9]+)")))
        << "no NSpid line in /proc/" << held.hostPid() << "/status";
    EXPECT_TRUE(std::regex_search(nspid[1].str(), std::regex("^\\s*[0-9]+\\s+1\\s*$")))
        << "expected the container's PID 1 to be pid 1 one namespace down; NSpid:"
        << nspid[1].str();
    EXPECT_EQ(held.wait().exitCode, 0);
}

// The container's /proc is a procfs of its own PID namespace: it lists only the
// container's processes, and it is a different mount from the host's /proc.
GRADED_TEST_F(Lab01Namespaces, ProcShowsOnlyTheContainersProcesses, 10) {
    constexpr int kMostExpected = 3;  // the probe, and a little room for a student's helper
    const RunResult r = runProbe({}, {"pids"});
    ASSERT_EQ(r.exitCode, 0) << r;
    const int count = std::atoi(r.value("count").c_str());
    EXPECT_GE(count, 1) << r;
    EXPECT_LE(count, kMostExpected)
        << "expected /proc inside to list only the container's processes, found " << count << r;
    const std::string pids = "," + r.value("pids") + ",";
    EXPECT_NE(pids.find(",1,"), std::string::npos)
        << "expected PID 1 in the container's /proc" << r;
    EXPECT_EQ(pids.find("," + std::to_string(::getpid()) + ","), std::string::npos)
        << "expected the host's processes (this test, pid " << ::getpid() << ") to be hidden" << r;

    auto held = startHeld({});
    ASSERT_TRUE(held.started());
    const auto hostProc = findMount(mountInfo(), "/proc");
    const auto containerProc = findMount(mountInfo(held.hostPid()), "/proc");
    ASSERT_TRUE(hostProc.has_value());
    ASSERT_TRUE(containerProc.has_value()) << "expected a mount at /proc in the container";
    EXPECT_EQ(containerProc->fsType, "proc") << containerProc->describe();
    EXPECT_NE(containerProc->device, hostProc->device)
        << "expected a new procfs in the container, found the host's: "
        << containerProc->describe();
    EXPECT_EQ(held.wait().exitCode, 0);
}

// The container's mounts (its /proc) stay in its mount namespace: the host's mount table
// gains nothing while it runs and is the same afterwards.
GRADED_TEST_F(Lab01Namespaces, HostMountTableIsUnchangedDuringAndAfterTheRun, 8) {
    auto keys = [] {
        std::vector<std::string> all;
        for (const auto& m : mountInfo()) all.push_back(m.describe());
        return all;
    };
    const auto before = keys();
    auto held = startHeld({});
    ASSERT_TRUE(held.started());
    for (const auto& m : newHostMounts()) {
        ADD_FAILURE() << "expected no new mount on the host while the container runs, found "
                      << m.describe();
    }
    const RunResult r = held.wait();
    EXPECT_EQ(r.exitCode, 0) << r;
    EXPECT_EQ(keys(), before) << "expected the host's mount table to be as before the run";

    // The same on a host whose mounts are shared (systemd's default): the container's
    // /proc must not propagate back, so its mounts must be made private first.
    const SharedHostRun shared = labOnSharedHost({"run", "--", probeBinary(), "exit", "0"});
    EXPECT_EQ(shared.result.exitCode, 0) << shared.result;
    for (const auto& m : shared.newMounts) {
        ADD_FAILURE() << "on a host with shared mounts, the container's mount propagated to "
                         "the host: "
                      << m.describe() << " (make / private first)";
    }
}

// The exit code of `run` is CMD's own.
GRADED_TEST_F(Lab01Namespaces, ExitCodeIsTheCommands, 5) {
    for (const int code : {0, 3, 42}) {
        const RunResult r = runProbe({}, {"exit", std::to_string(code)});
        EXPECT_EQ(r.exitCode, code) << "expected CMD's exit code " << code << r;
    }
}

// CMD killed by signal N gives 128+N: SIGKILL sent from the host (PID 1 cannot ignore
// it from there), and a segmentation fault inside (a fault is always delivered).
GRADED_TEST_F(Lab01Namespaces, CommandKilledBySignalGives128PlusN, 8) {
    auto held = startHeld({});
    ASSERT_TRUE(held.started());
    const std::string cmd = commandLineOf(held.hostPid());
    ASSERT_NE(cmd.find("hold"), std::string::npos)
        << "expected the runtime's child to be CMD (the probe), found: " << cmd;
    ASSERT_EQ(::kill(held.hostPid(), SIGKILL), 0);
    const RunResult killed = held.wait();
    EXPECT_EQ(killed.exitCode, kSignalBase + SIGKILL) << "expected 137 for SIGKILL" << killed;

    const RunResult segv = runProbe({}, {"segv"});
    EXPECT_EQ(segv.exitCode, kSignalBase + SIGSEGV) << "expected 139 for SIGSEGV" << segv;
}

// A CMD that exists but cannot be executed (no x bit) gives 126 and one error line.
GRADED_TEST_F(Lab01Namespaces, NonExecutableCommandGives126, 5) {
    const std::string script = makeTempFile("#!/bin/sh\nexit 0\n", 0644);
    const RunResult r = lab({"run", "--", script});
    EXPECT_EQ(r.exitCode, kNotExecutable)
        << "expected 126 for a file without execute permission" << r;
    expectOneErrorLine(r, script);
}

// A CMD that does not exist gives 127 and one error line, by path and by PATH lookup.
GRADED_TEST_F(Lab01Namespaces, MissingCommandGives127, 5) {
    for (const std::string cmd : {"/nonexistent/lab01-no-such-command", "lab01-no-such-command"}) {
        const RunResult r = lab({"run", "--", cmd});
        EXPECT_EQ(r.exitCode, kNotFound) << "expected 127 for a command that does not exist" << r;
        expectOneErrorLine(r, cmd);
    }
}

// An invalid --hostname is refused before anything is created: 125, one error line
// naming the hostname, an empty --root.
GRADED_TEST_F(Lab01Namespaces, InvalidHostnameIsRejectedWith125, 9) {
    const std::vector<std::string> invalid = {
        "bad_name",                          // '_' is not allowed
        "has space",                         // nor a space
        "semi;colon",                        // nor punctuation
        std::string(kMaxHostname + 1, 'a'),  // 65 characters: longer than the kernel allows
        "trailing-",                         // a label does not end with '-'
    };
    for (const auto& name : invalid) {
        SCOPED_TRACE("--hostname \"" + name + "\"");
        expectRejected(lab({"run", "--hostname", name, "--", probeBinary(), "pid"}), "hostname");
    }
}

// Descriptors the caller left open (without O_CLOEXEC, as a shell's `exec 3</` does) do
// not reach CMD: the runtime closes, or marks close-on-exec, every fd above 2 before
// execve(2). Otherwise CMD inherits a handle on the host's root and walks out through it
// (runc's CVE-2024-21626): here fd 3 is the host's "/" and fd 4 a file; CMD must find only
// 0, 1 and 2 in /proc/self/fd.
GRADED_TEST_F(Lab01Namespaces, DescriptorsOfTheCallerDoNotReachTheCommand, 10) {
    LaunchOptions options;
    options.inheritedFds = {{3, "/"}, {4, makeTempFile("the caller's file\n")}};
    const RunResult r = lab({"run", "--", probeBinary(), "fds"}, options);
    ASSERT_EQ(r.exitCode, 0) << r;
    EXPECT_EQ(r.value("fds"), "0,1,2")
        << "expected CMD to have only stdin, stdout and stderr open (close the rest, or set "
           "FD_CLOEXEC on them, before execve)"
        << r;
}

// Signals at start (not graded: the driver handles them, the skeleton too): SIGTERM,
// SIGINT or SIGHUP sent to the runtime at a random moment of its first 10 ms end every
// run, with 128+N if CMD had not started yet, and leave nothing: no record, no process.
TEST_F(Lab01Namespaces, SignalsAtStartEndTheRunAndLeaveNothing) {
    constexpr int kTries = 60;
    expectSignalsAtStartLeaveNothing({}, kTries);
}

// A stderr that cannot be written does not change the exit code (not graded: the
// driver's): closed (`2>&-`), or a pipe nobody reads, where the runtime's error line would
// raise SIGPIPE and kill it (141) if it did not ignore it. Bad input is still 125, a
// missing CMD 127, and neither leaves a record or a process.
TEST_F(Lab01Namespaces, UnwritableStderrKeepsTheExitCode) {
    const std::string containers = joinPath(root(), "containers");
    auto records = [&] {
        return isDirectory(containers) ? listDir(containers) : std::vector<std::string>{};
    };
    for (const auto stderrIs : {LaunchOptions::Stderr::closed, LaunchOptions::Stderr::brokenPipe}) {
        const bool closed = stderrIs == LaunchOptions::Stderr::closed;
        SCOPED_TRACE(closed ? "stderr closed" : "stderr a pipe nobody reads");
        LaunchOptions options;
        options.stderrIs = stderrIs;
        const RunResult bad =
            lab({"run", "--hostname", "bad_name", "--", probeBinary(), "pid"}, options);
        EXPECT_EQ(bad.exitCode, kRuntimeFailure) << "expected 125 for bad input" << bad;
        const RunResult missing = lab({"run", "--", "/nonexistent/lab01-no-such-command"}, options);
        EXPECT_EQ(missing.exitCode, kNotFound) << "expected 127 for a missing CMD" << missing;
        EXPECT_TRUE(records().empty()) << "expected no record of containers that never ran, found "
                                       << ::testing::PrintToString(records());
        const RunResult fine = lab({"run", "--", probeBinary(), "exit", "3"}, options);
        EXPECT_EQ(fine.exitCode, 3) << "expected CMD's exit code" << fine;
        EXPECT_TRUE(newLiveProcesses().empty()) << "expected nothing left running";
        if (isDirectory(containers)) removeAll(containers);  // the next round starts empty
    }
}

// `run` without CMD is refused by the command line itself (no points: the driver
// does it, the skeleton too).
TEST_F(Lab01Namespaces, RunWithoutCommandIsRejectedWith125) {
    for (const auto& args :
         {std::vector<std::string>{"run"}, std::vector<std::string>{"run", "--hostname", "box"},
          std::vector<std::string>{"run", "--"}}) {
        const RunResult r = lab(args);
        EXPECT_EQ(r.exitCode, kRuntimeFailure) << r;
        const auto lines = r.errLines();
        ASSERT_EQ(lines.size(), 1u) << "expected exactly one line on stderr" << r;
        EXPECT_EQ(lines.front().rfind("lab01: error:", 0), 0u) << r;
        EXPECT_TRUE(rootEntries().empty()) << "expected --root to stay empty" << r;
    }
}

}  // namespace
}  // namespace mydocker::test
