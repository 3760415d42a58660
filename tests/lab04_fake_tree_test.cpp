// Lab 04's unit tests: the contract (memory.hpp) called directly. Size parsing, and
// both MemoryController implementations against a fake cgroup tree in a temporary
// directory, so the v1 files are checked on a v2 host and the other way round.
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <string>

#include "mydocker/cgroups.hpp"
#include "mydocker/error.hpp"
#include "mydocker/file.hpp"
#include "mydocker/memory.hpp"
#include "support/fake_cgroup_tree.hpp"

namespace mydocker::test {
namespace {

namespace cg = mydocker::cgroups;
namespace mem = mydocker::memory;

constexpr const char* kPath = kFakeCgroupPath;

constexpr std::uint64_t kMiB = 1024 * 1024;

using Lab04FakeTree = FakeCgroupTree;

// The sizes Docker users type: digits with b, k, m or g (either case, powers of 1024),
// or plain bytes. --memory takes those of at least 6m.
GRADED_TEST_F(Lab04FakeTree, MemorySizesAreParsed, 10) {
    const std::map<std::string, std::uint64_t> sizes = {
        {"64m", 64 * kMiB},       {"64M", 64 * kMiB},        {"1g", 1024 * kMiB},
        {"1G", 1024 * kMiB},      {"1024k", kMiB},           {"100000000", 100000000},
        {"6m", 6 * kMiB},         {"7000000b", 7000000},     {"0", 0},
    };
    for (const auto& [text, bytes] : sizes) {
        try {
            EXPECT_EQ(mem::parseSize(text), bytes) << "size " << text;
            if (bytes >= mem::kMinimumBytes) {
                EXPECT_EQ(mem::parseMemorySize(text), bytes) << "--memory " << text;
            }
        } catch (const std::exception& e) {
            ADD_FAILURE() << "size " << text << " refused: " << e.what();
        }
    }
    EXPECT_EQ(mem::kMinimumBytes, 6 * kMiB);
}

// Anything else is a UsageError (exit 125): not a size, negative, an unknown unit, more
// bytes than 64 bits can count; and for --memory, zero or below the 6m minimum.
GRADED_TEST_F(Lab04FakeTree, BadMemorySizesAreRefused, 5) {
    for (const char* bad : {"abc", "-1", "5x", "", "m", "1.5g", " 64m", "64 m", "64mb",
                            "99999999999999999999", "17179869184g"}) {
        EXPECT_THROW(mem::parseSize(bad), UsageError) << "size \"" << bad << "\"";
        EXPECT_THROW(mem::parseMemorySize(bad), UsageError) << "--memory \"" << bad << "\"";
    }
    for (const char* small : {"0", "1m", "1024k", "6291455"}) {
        EXPECT_THROW(mem::parseMemorySize(small), UsageError)
            << "--memory \"" << small << "\" is below the 6m minimum";
    }
}

// V1Memory on a fake v1 memory hierarchy: the RAM limit, then RAM + swap at the same
// value (only where memory.memsw.* exists, else setLimit says swap is not limited); the
// OOM kills from oom_kill of memory.oom_control, never from memory.failcnt (it also
// counts the limit hits that reclaim solved); none on a kernel without oom_kill.
GRADED_TEST_F(Lab04FakeTree, V1MemoryWritesLimitAndReadsOomKills, 8) {
    const std::string leaf = std::string("memory/") + kPath;
    kernelDir(leaf, {{"cgroup.procs", ""},
                     {"memory.limit_in_bytes", ""},
                     {"memory.memsw.limit_in_bytes", ""},
                     {"memory.usage_in_bytes", "1048576\n"},
                     {"memory.failcnt", "40\n"},
                     {"memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n"}});
    cg::V1Cgroup cgroup({{"memory", at("memory")}}, kPath);
    const auto memory = mem::controllerFor(cgroup);
    EXPECT_TRUE(memory->setLimit(64 * kMiB)) << "expected swap limited where memsw exists";
    EXPECT_EQ(contents(leaf + "/memory.limit_in_bytes"), "67108864");
    EXPECT_EQ(contents(leaf + "/memory.memsw.limit_in_bytes"), "67108864")
        << "expected RAM + swap limited to the RAM limit: no swap";
    EXPECT_EQ(memory->oomKills(), 2u);
    EXPECT_TRUE(mem::oomKilled(cgroup));
    EXPECT_EQ(memory->usageBytes(), kMiB);

    // A host without swap accounting has no memsw files: the RAM limit alone is set.
    removeAll(at(leaf + "/memory.memsw.limit_in_bytes"));
    EXPECT_FALSE(memory->setLimit(32 * kMiB)) << "expected swap reported as not limited";
    mem::applyMemoryLimit(cgroup, 32 * kMiB);
    EXPECT_EQ(contents(leaf + "/memory.limit_in_bytes"), "33554432");
    EXPECT_FALSE(pathExists(at(leaf + "/memory.memsw.limit_in_bytes")));

    // Limit hits in memory.failcnt (40 above), but no kill: not an OOM kill.
    writeFileAtomic(at(leaf + "/memory.oom_control"),
                    "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n");
    EXPECT_EQ(memory->oomKills(), 0u);
    EXPECT_FALSE(mem::oomKilled(cgroup));
    // A kernel before 4.13 has no oom_kill line: no count, so no kill reported.
    writeFileAtomic(at(leaf + "/memory.oom_control"), "oom_kill_disable 0\nunder_oom 0\n");
    EXPECT_EQ(memory->oomKills(), 0u);
    EXPECT_FALSE(mem::oomKilled(cgroup));
}

// V2Memory on a fake unified tree: memory.max and memory.swap.max 0 (only where it
// exists, else setLimit says swap is not limited); the OOM kills from the oom_kill line
// of memory.events.
GRADED_TEST_F(Lab04FakeTree, V2MemoryWritesLimitAndReadsOomKills, 7) {
    kernelDir(kPath, {{"cgroup.controllers", "cpu memory pids\n"},
                      {"cgroup.procs", ""},
                      {"memory.max", ""},
                      {"memory.swap.max", ""},
                      {"memory.current", "2097152\n"},
                      {"memory.events", "low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\n"}});
    cg::V2Cgroup cgroup(base_, kPath);
    const auto memory = mem::controllerFor(cgroup);
    EXPECT_TRUE(memory->setLimit(64 * kMiB)) << "expected swap limited where swap.max exists";
    EXPECT_EQ(contents(std::string(kPath) + "/memory.max"), "67108864");
    EXPECT_EQ(contents(std::string(kPath) + "/memory.swap.max"), "0") << "expected swap off";
    EXPECT_EQ(memory->oomKills(), 1u);
    EXPECT_TRUE(mem::oomKilled(cgroup));
    EXPECT_EQ(memory->usageBytes(), 2 * kMiB);

    removeAll(at(std::string(kPath) + "/memory.swap.max"));
    EXPECT_FALSE(memory->setLimit(32 * kMiB)) << "expected swap reported as not limited";
    mem::applyMemoryLimit(cgroup, 32 * kMiB);
    EXPECT_EQ(contents(std::string(kPath) + "/memory.max"), "33554432");
    EXPECT_FALSE(pathExists(at(std::string(kPath) + "/memory.swap.max")));

    writeFileAtomic(at(std::string(kPath) + "/memory.events"),
                    "low 0\nhigh 0\nmax 3\noom 0\noom_kill 0\n");
    EXPECT_FALSE(mem::oomKilled(cgroup));
}

}  // namespace
}  // namespace mydocker::test
