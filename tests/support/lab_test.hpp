/// @file
/// @brief LabTest: the base fixture of every lab's tests, and where things are.
///
/// A lab test runs the lab executable next to the test executable (build/<variant>/labNN
/// beside build/<variant>/labNN_test) with a fresh temporary `--root`, and judges it by
/// kernel state (kernel_state.hpp). The fixture gives every test:
///
/// - a clean start: skipped with a reason when not root, its own temp dirs under /var/tmp;
/// - timeouts on everything it starts, so a hung student binary fails one test only;
/// - a clean end: whatever is still running is stopped, temp dirs are removed, and the
///   test FAILS if it left a mount, a process, a cgroup or a file behind (then the leak
///   is cleaned up, so the next test starts clean). "Left" means "not there when the
///   test started": what a crashed run left before the test fails nothing.
///
/// @code
/// class Lab01Namespaces : public mydocker::test::LabTest {};
///
/// GRADED_TEST_F(Lab01Namespaces, CommandIsPid1, 10) {  // 10 points (support/points.hpp)
///     const RunResult r = lab({"run", "--", probeBinary(), "pid"});
///     ASSERT_EQ(r.exitCode, 0) << r;
///     EXPECT_EQ(r.value("pid"), "1") << r;
/// }
/// @endcode
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "support/host_state.hpp"
#include "support/kernel_state.hpp"
#include "support/points.hpp"

namespace mydocker::test {

/// How long a lab command may run before it is killed (and its test fails). Ample: in a
/// busy VM without KVM, a run that publishes ports (a score of iptables commands) takes
/// several seconds; a hung command fails its test all the same.
inline constexpr std::chrono::seconds kDefaultTimeout{60};

/// Where makeRootfs() puts the probe inside a root filesystem.
inline constexpr const char* kProbeInRootfs = "/probe";

/// The running test executable (/proc/self/exe).
std::string testExecutable();

/// The lab this test executable tests, "01".."10", from its name `labNN_test`.
/// @throws std::runtime_error if the executable is not named that way
std::string labNumber();

/// The lab executable under test: `labNN` in the test executable's directory
/// (build/solutions/lab01 for build/solutions/lab01_test).
std::string labBinary();

/// The build directory: the parent of the test executable's directory.
std::string buildDir();

/// The probe, a static helper that prints kernel state from inside a container:
/// `<build>/support/probe` (tests/support/probe.c lists its subcommands).
std::string probeBinary();

/// The busybox root filesystem built by the busybox_image target:
/// `<build>/images/busybox/rootfs`. Never modify it: use LabTest::makeRootfs().
std::string busyboxRootfs();

/// A shell-like rendering of a command line, for messages (arguments with spaces quoted).
std::string commandLine(const std::vector<std::string>& argv);

/// What a finished lab command left: how it ended and what it printed.
struct RunResult {
    std::string command;    ///< the command line that was run, for messages
    int exitCode = -1;      ///< the exit code, or 128+N when killed by signal N
    bool timedOut = false;  ///< killed because it ran past its timeout
    std::string out;        ///< everything it wrote to stdout
    std::string err;        ///< everything it wrote to stderr

    /// stderr split into lines, without the newlines (and without a last empty line).
    std::vector<std::string> errLines() const;
    /// stdout split into lines, likewise.
    std::vector<std::string> outLines() const;
    /// The value of the first `key=value` line of stdout (the probe's output), "" if none.
    std::string value(const std::string& key) const;
    /// The values of every `key=value` line of stdout with this key, in order.
    std::vector<std::string> values(const std::string& key) const;
    /// True when stdout has a `key=value` line with this key.
    bool has(const std::string& key) const;
};

/// What LabTest::labOnSharedHost() saw: the run, and the mounts that appeared meanwhile.
struct SharedHostRun {
    RunResult result;                  ///< the lab command, as lab() returns it
    std::vector<MountInfo> newMounts;  ///< mounts that propagated out of the container
};

/// How LabTest::lab() starts the runtime, beyond its arguments.
struct LaunchOptions {
    /// Past this the runtime is killed, with its process group (the container is in it).
    std::chrono::seconds timeout = kDefaultTimeout;
    /// Descriptors the runtime inherits from its caller, as `exec 3</` in a shell leaves
    /// them: fd number (3 or more) -> a path, opened read-only and without O_CLOEXEC (a
    /// directory too). A runtime must not pass them on to CMD.
    std::map<int, std::string> inheritedFds;
    /// What the runtime's stderr is (what it writes there is lost but in `captured`).
    enum class Stderr {
        captured,    ///< a file, read into RunResult::err
        closed,      ///< no fd 2 at all, as `2>&-` leaves it
        brokenPipe,  ///< a pipe nobody reads any more, as `lab 2>&1 | true` may leave it:
                     ///< writing there raises SIGPIPE
    };
    Stderr stderrIs = Stderr::captured;  ///< see Stderr
    /// Called in the test's process as soon as the runtime is forked, with its pid (to
    /// send it a signal at a chosen moment); lab() waits for the runtime after it returns.
    std::function<void(pid_t)> afterStart;
};

/// Prints a RunResult for a failure message: the command, how it ended, stdout and stderr.
/// `EXPECT_EQ(r.exitCode, 0) << r;` shows what was found next to what was expected.
std::ostream& operator<<(std::ostream& os, const RunResult& result);

namespace detail {
struct HeldProcess;
}  // namespace detail

/// The base fixture of every lab test (see the file comment).
class LabTest : public ::testing::Test {
  public:
    /// A container held alive: `labNN --root R run <flags> -- <probe> hold <fifo>` running in
    /// the background. It is started once the container's CMD has opened the FIFO (so the
    /// runtime's whole setup is done); it stays alive until release() closes the FIFO.
    /// Move-only; the fixture stops it at TearDown if the test did not.
    class HeldContainer {
      public:
        HeldContainer(HeldContainer&&) noexcept;
        HeldContainer& operator=(HeldContainer&&) noexcept;
        HeldContainer(const HeldContainer&) = delete;
        HeldContainer& operator=(const HeldContainer&) = delete;
        ~HeldContainer();

        /// Success once CMD holds the FIFO open and the runtime has exactly one child;
        /// otherwise why not (the runtime's exit code and stderr, or a timeout).
        /// Use as `ASSERT_TRUE(held.started());`.
        ::testing::AssertionResult started() const;
        /// The container's PID 1 as the host sees it: the runtime's only child. -1 if the
        /// container did not start.
        pid_t hostPid() const;
        /// The runtime process (labNN) itself.
        pid_t runtimePid() const;
        /// The command line that started it.
        const std::string& command() const;
        /// Closes the FIFO: CMD reads EOF and exits 0. Idempotent.
        void release();
        /// Releases the container, waits for the runtime to exit (killing its process group
        /// after `timeout`) and returns what it did. Later calls return the same result.
        RunResult wait(std::chrono::seconds timeout = kDefaultTimeout);

      private:
        friend class LabTest;
        explicit HeldContainer(std::shared_ptr<detail::HeldProcess> process);
        std::shared_ptr<detail::HeldProcess> process_;
    };

    LabTest();
    ~LabTest() override;

  protected:
    /// Skips the test (with the reason) when not root; makes a fresh temporary --root
    /// under /var/tmp (never in the build tree); snapshots the host for the leak check.
    void SetUp() override;
    /// Stops what the test left running, removes the temp dirs, then fails the test for
    /// each mount, process, cgroup or file it leaked on the host (and removes the leak).
    void TearDown() override;

    /// Runs `labNN --root <root()> args...` and waits for it (killed after `timeout`).
    /// Its stdin is /dev/null; it inherits no descriptor but 0, 1 and 2.
    RunResult lab(const std::vector<std::string>& args,
                  std::chrono::seconds timeout = kDefaultTimeout);

    /// The same, started as `options` says: with descriptors inherited from its caller,
    /// without stderr, or signalled while it starts.
    RunResult lab(const std::vector<std::string>& args, const LaunchOptions& options);

    /// Runs `labNN --root <root()> run <flags> -- <probe> <probeArgs>`: the host's probe as
    /// CMD, on the host's root (labs 01, 03, 04 without --rootfs).
    RunResult runProbe(const std::vector<std::string>& flags,
                       const std::vector<std::string>& probeArgs,
                       std::chrono::seconds timeout = kDefaultTimeout);

    /// Runs `labNN --root <root()> args...` as on a systemd host, where every mount is
    /// shared: in a mount namespace of its own (unshare(1), then `mount --make-rshared /`) that
    /// dies with the command. A runtime that forgets to make its mounts private then
    /// leaks them back into that namespace (and pivot_root(2) refuses a shared root),
    /// whatever the propagation of the machine running the tests.
    SharedHostRun labOnSharedHost(const std::vector<std::string>& args,
                                  std::chrono::seconds timeout = kDefaultTimeout);

    /// The runtime failed on its own terms: exactly one stderr line of the form
    /// `labNN: error: <what> (<why>)` that names the problem (contains `topic`) and is
    /// not a skeleton's TODO (whose errors also exit 125).
    void expectOneErrorLine(const RunResult& r, const std::string& topic);

    /// Bad input: exit 125, expectOneErrorLine(r, topic), and nothing left behind:
    /// --root empty, no new mount on the host, no new mydocker cgroup (one left before the
    /// test by a crashed run is not this test's doing).
    void expectRejected(const RunResult& r, const std::string& topic);

    /// Signals at start: `tries` runs of `run <runFlags> -- <probe> exit 7`, each sent
    /// SIGTERM, SIGINT or SIGHUP (in turn) at a random moment after it was forked: within
    /// 10 ms, or within the time a whole run takes here if that is longer (measured first),
    /// so that the signal lands anywhere from the runtime's first instruction to CMD's end,
    /// on a fast machine as on a slow VM. Every run must end, either with CMD's 7 (the
    /// signal came once CMD ran and was forwarded to it; a PID 1 without a handler ignores
    /// it) or with 128+N (the runtime undid its start); and leave nothing: no live record,
    /// no record at all for a run that did not reach CMD, no new cgroup, no process.
    void expectSignalsAtStartLeaveNothing(const std::vector<std::string>& runFlags, int tries);

    /// The temporary --root every lab command of this test gets (it exists and is empty
    /// at the start).
    std::string root() const;

    /// What the runtime left in root() (names, recursively, relative to it), for
    /// "bad input leaves nothing behind" checks.
    std::vector<std::string> rootEntries() const;

    /// A fresh copy (cp -a) of the busybox root filesystem with the probe at /probe.
    /// Removed at TearDown.
    std::string makeRootfs();

    /// A fresh empty directory, removed at TearDown.
    std::string makeTempDir();

    /// A new file with `content` and permission bits `mode` in a fresh temp dir.
    std::string makeTempFile(const std::string& content, mode_t mode = 0644);

    /// The host's mounts that were not there when the test started (the leak check's view,
    /// for use while a container runs).
    std::vector<MountInfo> newHostMounts() const;

    /// The *mydocker* cgroup directories that were not there when the test started, in
    /// every hierarchy (the leak check's view): "no cgroup left" is this being empty, never
    /// mydockerCgroupDirs() being empty.
    std::vector<std::string> newCgroupDirs() const;

    /// The processes descended from the test that were not there when it started and are
    /// still alive (not zombies): "nothing left running".
    std::vector<pid_t> newLiveProcesses() const;

    /// Starts a held container. `runFlags` go between `run` and `--`.
    /// Without `rootfs` the FIFO is in a temp dir on the host and CMD is the host's probe
    /// (lab 01: the container shares the host's files). With `rootfs` (from makeRootfs()),
    /// `--rootfs <rootfs>` is added to the flags, the FIFO is made inside it at
    /// /run/hold-N.fifo and CMD is `/probe hold /run/hold-N.fifo`.
    /// Check the result with `ASSERT_TRUE(held.started())`.
    HeldContainer startHeld(std::vector<std::string> runFlags, const std::string& rootfs = "");

  private:
    std::string makeTempPath(const std::string& kind);
    RunResult launch(const std::vector<std::string>& argv, const LaunchOptions& options);
    void start(detail::HeldProcess& process);
    void stopHeldContainers();
    void removeNetworks();
    void reportLeaks();

    bool ready_ = false;   // SetUp got as far as making the temp dirs
    std::string base_;     // /var/tmp/mydocker-test.XXXXXX: every temp dir of the test
    std::string root_;     // base_/root
    int tempCount_ = 0;    // names temp dirs uniquely
    HostSnapshot before_;  // the host before the test, for the leak check
    std::vector<std::shared_ptr<detail::HeldProcess>> held_;  // stopped at TearDown
};

}  // namespace mydocker::test
