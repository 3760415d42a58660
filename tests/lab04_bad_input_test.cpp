// Bad input, every flag of labs 01-04 at once (ungraded: the labs' own suites grade
// their flags): each of these command lines must exit 125 (126 or 127 where CMD is
// the problem), print exactly one line naming what was wrong, and leave nothing behind:
// no record under --root, no cgroup, no mount. (How fast it answers is measured by
// bench/bad-inputs, not here; a hang is caught by the timeout of each run.)
//
// A value with a newline must not make two lines; a huge value must not be echoed whole
// (the error line quotes values with control characters escaped and long ones cut).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "support/lab_test.hpp"

namespace mydocker::test {
namespace {

/// docker run's exit codes (DESIGN.md).
constexpr int kRuntimeFailure = 125;
constexpr int kNotExecutable = 126;
constexpr int kNotFound = 127;

/// A bad input that takes longer than this hangs (expanding a huge CPU list, say).
constexpr std::chrono::seconds kHang{10};

/// The longest error line we accept: a value is quoted cut, never whole.
constexpr std::size_t kLongestLine = 400;

/// One bad command line: the arguments after `labNN --root R`, and the word the error
/// line must contain.
struct BadInput {
    std::vector<std::string> args;
    std::string topic;
};

/// `run FLAG VALUE -- /bin/true`.
BadInput runWith(const std::string& flag, const std::string& value, const std::string& topic) {
    return {{"run", flag, value, "--", "/bin/true"}, topic};
}

/// Every flag's bad values, from the labs' contracts and Docker's rules.
std::vector<BadInput> badInputs() {
    std::vector<BadInput> inputs = {
        // The command line itself.
        {{"runn"}, "runn"},
        {{"run", "--bogus", "--", "/bin/true"}, "--bogus"},
        {{"--log-level", "loud", "run", "--", "/bin/true"}, "log level"},
        {{"--log-level", "", "run", "--", "/bin/true"}, "log level"},
    };
    const auto add = [&](const std::string& flag, const std::vector<std::string>& values,
                         const std::string& topic) {
        for (const auto& value : values) inputs.push_back(runWith(flag, value, topic));
    };
    const std::string longName(kLongestLine * 250, 'a');  // 100,000 characters
    add("--hostname",
        {"", "bad_name", "-a", "a-", ".a", "a.", std::string(65, 'a'), "a b", "a\nb", "a/b",
         "caf\xc3\xa9", "a\tb", "a\x1b[31mred", longName},
        "hostname");
    add("--rootfs",
        {"", "relative/dir", "/nonexistent/dir", "/etc/passwd", "/", "/.", "//", "/etc", "/etc/.",
         "/dev", "/proc", "/proc/self", "/sys", "/sys/fs/cgroup", "/usr", "/tmp\n", "/a\nb",
         "/" + longName},
        "--rootfs");
    add("--cpus",
        {"", "0", "-1", "abc", "1e9", "inf", "nan", "0.001", "99999", "1.5.5", "0x1", " 1", "1 ",
         "1\n", longName},
        "--cpus");
    add("--cpu-shares",
        {"", "1", "0", "-5", "262145", "abc", "1.5", "99999999999999999999", "1\n2"},
        "--cpu-shares");
    add("--cpuset-cpus",
        {"", ",", "1,,2", ",0", "0,", "a", "0-", "-1", "1-0", "0-1-2", "0-4294967295", "0-99999999",
         "0-2,0-4294967295", "4294967296", "99999", "0\n1", longName},
        "--cpuset-cpus");
    add("--pids-limit", {"", "0", "-1", "abc", "4194305", "1.5", "99999999999999999999", "1\n"},
        "--pids-limit");
    add("--memory",
        {"", "12q", "0", "1m", "5m", "-1", "abc", "1.5g", "99999999999999999999",
         "18446744073709551615g", "m", "64mb", "64 m", "64m\n", longName},
        "--memory");
    for (const auto& root : {"", "relative", "var/lib/x"}) {
        inputs.push_back({{"--root", root, "run", "--", "/bin/true"}, "--root"});
    }
    return inputs;
}

/// A RunResult cut short for a message: values here may be 100,000 characters long.
std::string brief(const RunResult& r) {
    constexpr std::size_t kShown = 300;
    return "\n  command: " + r.command.substr(0, kShown) + "\n  exit " +
           std::to_string(r.exitCode) + (r.timedOut ? " (timed out)" : "") +
           "\n  stderr: " + r.err.substr(0, kShown);
}

class Lab04BadInput : public LabTest {
  protected:
    /// Runs `labNN --root R args...`, remembering what --root held before.
    /// Its time goes into the test's properties for bench/bad-inputs.
    RunResult refusedLab(const std::vector<std::string>& args) {
        before_ = rootEntries();
        const auto start = std::chrono::steady_clock::now();
        RunResult r = lab(args, kHang);
        times_.push_back(std::chrono::duration_cast<std::chrono::microseconds>(
                             std::chrono::steady_clock::now() - start)
                             .count());
        return r;
    }

    /// Records how many runs there were and how long they took (bench/bad-inputs reads it).
    void recordTimes() {
        if (times_.empty()) return;
        std::sort(times_.begin(), times_.end());
        RecordProperty("runs", static_cast<int>(times_.size()));
        RecordProperty("median_us", static_cast<int>(times_[times_.size() / 2]));
        RecordProperty("slowest_us", static_cast<int>(times_.back()));
    }

    /// One line, short, and nothing left; `code` as expected.
    void expectRefused(const RunResult& r, int code, const std::string& topic) {
        EXPECT_FALSE(r.timedOut) << "expected an answer, not a hang" << brief(r);
        EXPECT_EQ(r.exitCode, code) << brief(r);
        const auto lines = r.errLines();
        ASSERT_EQ(lines.size(), 1u) << "expected exactly one line on stderr" << brief(r);
        EXPECT_LT(lines.front().size(), kLongestLine) << "expected long values cut" << brief(r);
        EXPECT_NE(lines.front().find(topic), std::string::npos)
            << "expected the error to name \"" << topic << "\"" << brief(r);
        // Compared with before this run: one wrong answer must not fail all that follow.
        EXPECT_EQ(rootEntries(), before_) << "expected nothing left under --root" << brief(r);
        EXPECT_TRUE(newHostMounts().empty()) << "expected no new mount on the host" << brief(r);
    }

  private:
    std::vector<std::string> before_;  // --root's entries before the last run
    std::vector<long> times_;          // each run's wall time, in microseconds
};

// Every bad value of every flag: 125, one line naming the flag, nothing left. The harness's leak
// check adds: no cgroup, no process, no file elsewhere.
TEST_F(Lab04BadInput, EveryBadFlagValueIsRefusedInOneLineAndLeavesNothing) {
    const auto inputs = badInputs();
    for (const BadInput& input : inputs) {
        SCOPED_TRACE(commandLine(input.args).substr(0, 200));
        const RunResult r = refusedLab(input.args);
        expectRefused(r, kRuntimeFailure, input.topic);
    }
    recordTimes();
}

// CMD that cannot run: 127 when not found, 126 when not executable; one line; the
// container that never ran leaves no record.
TEST_F(Lab04BadInput, CommandThatCannotRunIsRefusedAndLeavesNothing) {
    const std::string rootfs = makeRootfs();
    const struct {
        std::string command;
        int code;
    } commands[] = {
        {"/nonexistent", kNotFound}, {"nonexistent", kNotFound},      {"/etc/passwd/x", kNotFound},
        {"/etc", kNotExecutable},    {"/etc/passwd", kNotExecutable},
    };
    for (const auto& [command, code] : commands) {
        for (const bool withRootfs : {false, true}) {
            std::vector<std::string> args = {"run", "-m", "64m", "--pids-limit", "50"};
            if (withRootfs) args.insert(args.end(), {"--rootfs", rootfs});
            args.insert(args.end(), {"--", command});
            SCOPED_TRACE(commandLine(args));
            const RunResult r = refusedLab(args);
            expectRefused(r, code, command);
        }
    }
    recordTimes();
}

}  // namespace
}  // namespace mydocker::test
