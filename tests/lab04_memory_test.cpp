// Lab 04's graded tests: `run -m/--memory SIZE -- CMD`.
//
// The checklist of the lab, one test each: the limit and the swap setting are in the
// cgroup files of the host's version; a process that touches more than the limit is
// OOM-killed, and the runtime says so (exit 137, `container was OOM-killed`, and the
// container's state records it); one that stays under the limit finishes normally; bad
// sizes are refused with 125 and one line; no cgroup is left after either ending. As in
// Docker, the exit code is PID 1's own: a child's OOM kill is only recorded in the state,
// and a SIGKILL from outside is not an OOM kill.
//
// The probe's `alloc MIB` mallocs and writes every page, so the memory is really charged
// to the cgroup. Everything is judged by the kernel's files and the runtime's exit.
#include <gtest/gtest.h>
#include <signal.h>

#include <regex>
#include <string>
#include <vector>

#include "mydocker/file.hpp"
#include "support/lab_test.hpp"

namespace mydocker::test {
namespace {

/// 128 + SIGKILL: how a container killed by the OOM killer, or by anyone's SIGKILL, exits.
constexpr int kOomKilled = 128 + SIGKILL;
constexpr int kKilled = 128 + SIGKILL;

/// What the runtime prints when the kernel's OOM killer ended the container.
constexpr const char* kOomMessage = "container was OOM-killed";

/// A container's cgroup directory: `mydocker/<64 hex digits>`.
const std::regex kContainerCgroup(".*/mydocker/[0-9a-f]{64}");

/// 64 MiB, the limit most tests set, in bytes.
constexpr const char* kLimit = "64m";
constexpr const char* kLimitBytes = "67108864";

bool isV2() {
    return cgroupMode() == CgroupMode::v2;
}

class Lab04Memory : public LabTest {
  protected:
    /// The state.json of the one container run so far in this test ("" if none).
    std::string stateJson() const {
        const std::string dir = joinPath(root(), "containers");
        if (!isDirectory(dir)) return "";
        const auto ids = listDir(dir);
        if (ids.size() != 1) return "";
        const std::string path = joinPath(joinPath(dir, ids.front()), "state.json");
        return pathExists(path) ? readFile(path) : "";
    }

    /// The value of "oomKilled" in the container's state ("" if absent).
    std::string recordedOomKill() const {
        std::smatch match;
        const std::string json = stateJson();
        if (!std::regex_search(json, match, std::regex("\"oomKilled\"\\s*:\\s*(true|false)")))
            return "";
        return match[1].str();
    }

    /// The memory controller's file `file` for `pid`, or "" (and a failure) if none.
    std::string memoryFile(pid_t pid, const std::string& file, bool required = true) {
        const auto dir = cgroupDirOf(pid, "memory");
        if (!dir) {
            ADD_FAILURE() << "no memory cgroup for pid " << pid << " on this host";
            return "";
        }
        EXPECT_TRUE(std::regex_match(*dir, kContainerCgroup))
            << "expected pid " << pid << " in a mydocker/<id> cgroup, found " << *dir;
        const std::string path = joinPath(*dir, file);
        if (!required && !pathExists(path)) return "(absent)";
        return readLine(path);
    }
};

// -m 64m: the RAM limit is 64 MiB, and swap cannot extend it. v1: memory.limit_in_bytes,
// and memory.memsw.limit_in_bytes (RAM + swap) at the same value where the host accounts
// swap. v2: memory.max, and memory.swap.max 0 where it exists.
GRADED_TEST_F(Lab04Memory, LimitAndSwapAreWritten, 12) {
    auto held = startHeld({"--memory", kLimit});
    ASSERT_TRUE(held.started());
    const pid_t pid = held.hostPid();
    if (isV2()) {
        EXPECT_EQ(memoryFile(pid, "memory.max"), kLimitBytes);
        const std::string swap = memoryFile(pid, "memory.swap.max", false);
        if (swap != "(absent)") {
            EXPECT_EQ(swap, "0") << "expected swap off (memory.swap.max)";
        }
    } else {
        EXPECT_EQ(memoryFile(pid, "memory.limit_in_bytes"), kLimitBytes);
        const std::string memsw = memoryFile(pid, "memory.memsw.limit_in_bytes", false);
        if (memsw != "(absent)") {
            EXPECT_EQ(memsw, kLimitBytes) << "expected RAM + swap limited to the RAM limit";
        }
    }
    EXPECT_EQ(held.wait().exitCode, 0);
}

// A process that touches 128 MiB under -m 32m is killed by the kernel's OOM killer: the
// runtime exits 137 and says `container was OOM-killed` on stderr.
GRADED_TEST_F(Lab04Memory, OverTheLimitIsOomKilledWithExit137, 15) {
    const RunResult r = runProbe({"-m", "32m"}, {"alloc", "128"});
    EXPECT_EQ(r.exitCode, kOomKilled) << "expected 137 for an OOM kill" << r;
    EXPECT_FALSE(r.has("allocated")) << "expected the allocation never to finish" << r;
    EXPECT_NE(r.err.find(kOomMessage), std::string::npos)
        << "expected \"" << kOomMessage << "\" on stderr" << r;
    EXPECT_EQ(r.err.find("TODO"), std::string::npos) << r;
}

// The OOM kill is recorded in the container's state (state.json, "oomKilled": true) for
// `inspect` and `ps` later.
GRADED_TEST_F(Lab04Memory, OomKillIsRecordedInTheState, 8) {
    const RunResult r = runProbe({"-m", "32m"}, {"alloc", "128"});
    ASSERT_EQ(r.exitCode, kOomKilled) << r;
    EXPECT_EQ(recordedOomKill(), "true") << "expected \"oomKilled\": true in state.json:\n"
                                         << stateJson();
}

// A process that stays under the limit (16 MiB under 64m) finishes normally: exit 0, no
// OOM report, "oomKilled": false in its state.
GRADED_TEST_F(Lab04Memory, UnderTheLimitFinishesNormally, 8) {
    const RunResult r = runProbe({"-m", kLimit}, {"alloc", "16"});
    ASSERT_EQ(r.exitCode, 0) << r;
    EXPECT_EQ(r.value("allocated"), "16") << r;
    EXPECT_EQ(r.err.find(kOomMessage), std::string::npos) << "expected no OOM report" << r;
    EXPECT_EQ(recordedOomKill(), "false") << "expected \"oomKilled\": false in state.json:\n"
                                          << stateJson();
}

// Bad sizes are refused before anything exists: 125, one line naming --memory (not a
// skeleton's TODO), nothing in --root, no cgroup.
GRADED_TEST_F(Lab04Memory, BadSizesAreRejectedWith125, 8) {
    for (const std::string size : {"abc", "-1", "0", "5x", "1m"}) {
        SCOPED_TRACE("--memory " + size);
        const RunResult r = runProbe({"--memory=" + size}, {"exit", "0"});
        expectRejected(r, "memory");
    }
}

// No cgroup is left after an OOM kill, nor after a normal exit.
GRADED_TEST_F(Lab04Memory, NoCgroupIsLeftAfterOomOrExit, 5) {
    const RunResult killed = runProbe({"-m", "32m"}, {"alloc", "128"});
    ASSERT_EQ(killed.exitCode, kOomKilled) << killed;
    EXPECT_TRUE(newCgroupDirs().empty()) << "expected no cgroup after the OOM kill, found "
                                         << ::testing::PrintToString(newCgroupDirs());
    const RunResult fine = runProbe({"-m", kLimit}, {"alloc", "8"});
    ASSERT_EQ(fine.exitCode, 0) << fine;
    EXPECT_TRUE(newCgroupDirs().empty())
        << "expected no cgroup after the exit, found " << ::testing::PrintToString(newCgroupDirs());
}

// Docker's semantics: the exit code is PID 1's own. A child of PID 1 that goes past the
// limit is OOM-killed, PID 1 waits for it and exits 0: the runtime exits 0 and reports
// no OOM kill of the container, but the state records that the cgroup had one
// ("oomKilled": true, as `docker inspect` shows it).
GRADED_TEST_F(Lab04Memory, ChildOomKillKeepsTheExitCodeAndIsRecorded, 8) {
    const RunResult r = runProbe({"-m", "32m"}, {"alloc-child", "128"});
    ASSERT_EQ(r.exitCode, 0) << "expected PID 1's own exit code, 0" << r;
    EXPECT_EQ(r.value("child_signal"), std::to_string(SIGKILL))
        << "expected the child to be OOM-killed (SIGKILL)" << r;
    EXPECT_EQ(r.err.find(kOomMessage), std::string::npos)
        << "expected no \"" << kOomMessage << "\": PID 1 was not killed" << r;
    EXPECT_EQ(recordedOomKill(), "true") << "expected \"oomKilled\": true in state.json:\n"
                                         << stateJson();
}

// A SIGKILL from outside under a memory limit is not an OOM kill: exit 137 (128+9), but
// no `container was OOM-killed`, and "oomKilled": false. The OOM kill is read from the
// cgroup's own count (oom_kill), never guessed from the signal.
GRADED_TEST_F(Lab04Memory, ExternalKillUnderALimitIsNotAnOomKill, 6) {
    auto held = startHeld({"-m", kLimit});
    ASSERT_TRUE(held.started());
    ASSERT_EQ(::kill(held.hostPid(), SIGKILL), 0);
    const RunResult r = held.wait();
    EXPECT_EQ(r.exitCode, kKilled) << "expected 137 for SIGKILL" << r;
    EXPECT_EQ(r.err.find(kOomMessage), std::string::npos)
        << "expected no \"" << kOomMessage << "\" for a kill from outside" << r;
    EXPECT_EQ(recordedOomKill(), "false") << "expected \"oomKilled\": false in state.json:\n"
                                          << stateJson();
}

}  // namespace
}  // namespace mydocker::test
