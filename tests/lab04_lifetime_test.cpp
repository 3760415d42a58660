// The container's lifetime with every step of labs 01-04 in the pipeline (ungraded: the
// driver's work, given code): a signal at any moment of the start, or a closed stderr,
// must not leave a cgroup, a record or a process behind. Lab 01's suite checks the same
// without cgroups; here the runtime has a cgroup to create and undo in every hierarchy.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "mydocker/file.hpp"
#include "support/lab_test.hpp"

namespace mydocker::test {
namespace {

/// A container with a cgroup in every controller labs 03 and 04 use.
const std::vector<std::string> kLimits = {"-m", "64m", "--pids-limit", "50", "--cpus", "0.5"};

constexpr int kNotFound = 127;

class Lab04Lifetime : public LabTest {};

// SIGTERM, SIGINT or SIGHUP at a random moment of the first 10 ms: 128+N before CMD runs
// (everything undone: the cgroup too), CMD's exit code after; nothing left either way.
TEST_F(Lab04Lifetime, SignalsAtStartLeaveNoCgroupNoRecordNoProcess) {
    constexpr int kTries = 60;
    expectSignalsAtStartLeaveNothing(kLimits, kTries);
}

// With stderr closed (`2>&-`) or a pipe nobody reads, a CMD that does not exist still
// gives 127, not 141 (SIGPIPE at the runtime's error line), and its cgroup and record are
// undone.
TEST_F(Lab04Lifetime, UnwritableStderrAndAMissingCommandLeaveNothing) {
    std::vector<std::string> args = {"run"};
    args.insert(args.end(), kLimits.begin(), kLimits.end());
    args.insert(args.end(), {"--", "/nonexistent/lab04-no-such-command"});
    const std::string containers = joinPath(root(), "containers");
    for (const auto stderrIs : {LaunchOptions::Stderr::closed, LaunchOptions::Stderr::brokenPipe}) {
        SCOPED_TRACE(stderrIs == LaunchOptions::Stderr::closed ? "stderr closed"
                                                               : "stderr a pipe nobody reads");
        LaunchOptions options;
        options.stderrIs = stderrIs;
        const RunResult r = lab(args, options);
        EXPECT_EQ(r.exitCode, kNotFound) << r;
        if (isDirectory(containers)) {
            EXPECT_TRUE(listDir(containers).empty())
                << "expected no record of a container that never ran, found "
                << ::testing::PrintToString(listDir(containers));
        }
        EXPECT_TRUE(newCgroupDirs().empty())
            << "expected no cgroup left, found " << ::testing::PrintToString(newCgroupDirs());
    }
}

}  // namespace
}  // namespace mydocker::test
