#include "support/lab_test.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/close_range.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iterator>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "mydocker/error.hpp"
#include "mydocker/file.hpp"
#include "mydocker/process.hpp"
#include "mydocker/unique_fd.hpp"

namespace mydocker::test {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

/// Where every test's temporary directories go: on disk (not tmpfs, so later labs'
/// overlay upper dirs work), and never in the build tree.
constexpr const char* kTempParent = "/var/tmp";
/// How long makeRootfs() may take to copy the busybox image.
constexpr auto kCopyTimeout = 120s;
/// How long a held container may take to reach its CMD.
constexpr auto kStartTimeout = 30s;
/// How long TearDown gives a released container, then a killed one, to exit.
constexpr auto kStopGrace = 5s;
constexpr auto kPollInterval = 10ms;
/// How often lab() looks whether the runtime exited: short, as most runs take milliseconds.
constexpr auto kLaunchPollInterval = 1ms;
/// Exit code of the forked child when exec of the lab binary fails.
constexpr int kExecFailed = 127;

std::vector<std::string> splitLines(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream stream(text);
    std::string line;
    while (std::getline(stream, line)) lines.push_back(line);
    return lines;
}

std::string directoryOf(const std::string& path) {
    return path.substr(0, path.rfind('/'));
}

std::string readIfPresent(const std::string& path) {
    try {
        return readFile(path);
    } catch (const SysError&) {
        return {};
    }
}

// Lists `dir` recursively into `out` as paths relative to `prefix`.
void listRecursively(const std::string& dir, const std::string& prefix,
                     std::vector<std::string>& out) {
    for (const auto& name : listDir(dir)) {
        const std::string relative = prefix.empty() ? name : prefix + "/" + name;
        out.push_back(relative);
        const std::string path = joinPath(dir, name);
        struct stat st {};
        if (::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
            listRecursively(path, relative, out);
        }
    }
}

}  // namespace

// --- where things are -------------------------------------------------------------------

std::string testExecutable() {
    return readProcLink("self/exe");
}

std::string labNumber() {
    const std::string exe = testExecutable();
    const std::string name = exe.substr(exe.rfind('/') + 1);
    static const std::regex kTestName("lab([0-9][0-9])_test");
    std::smatch match;
    if (!std::regex_match(name, match, kTestName)) {
        throw std::runtime_error(fmt::format(
            "cannot tell which lab to test: the test executable {} is not named labNN_test", exe));
    }
    return match[1];
}

std::string labBinary() {
    return joinPath(directoryOf(testExecutable()), "lab" + labNumber());
}

std::string buildDir() {
    return directoryOf(directoryOf(testExecutable()));
}

std::string probeBinary() {
    return joinPath(buildDir(), "support/probe");
}

std::string busyboxRootfs() {
    return joinPath(buildDir(), "images/busybox/rootfs");
}

std::string commandLine(const std::vector<std::string>& argv) {
    std::string line;
    for (const auto& arg : argv) {
        if (!line.empty()) line += ' ';
        const bool plain =
            !arg.empty() && arg.find_first_of(" \t\n'\"\\$;&|<>*?()") == std::string::npos;
        line += plain ? arg : "'" + std::regex_replace(arg, std::regex("'"), "'\\''") + "'";
    }
    return line;
}

// --- RunResult ----------------------------------------------------------------------------

std::vector<std::string> RunResult::errLines() const {
    return splitLines(err);
}

std::vector<std::string> RunResult::outLines() const {
    return splitLines(out);
}

std::vector<std::string> RunResult::values(const std::string& key) const {
    std::vector<std::string> found;
    for (const auto& line : outLines()) {
        if (line.size() > key.size() && line.compare(0, key.size(), key) == 0 &&
            line[key.size()] == '=') {
            found.push_back(line.substr(key.size() + 1));
        }
    }
    return found;
}

std::string RunResult::value(const std::string& key) const {
    const auto found = values(key);
    return found.empty() ? std::string() : found.front();
}

bool RunResult::has(const std::string& key) const {
    if (!values(key).empty()) return true;
    // "key=" with an empty value counts too.
    const auto lines = outLines();
    return std::find(lines.begin(), lines.end(), key + "=") != lines.end();
}

std::ostream& operator<<(std::ostream& os, const RunResult& result) {
    os << "\n  command:   " << result.command;
    os << "\n  exit code: " << result.exitCode;
    if (result.timedOut) os << " (killed: it ran past its timeout)";
    auto block = [&os](const char* name, const std::string& text) {
        os << "\n  " << name << ":";
        if (text.empty()) {
            os << " (empty)";
            return;
        }
        for (const auto& line : splitLines(text)) os << "\n    | " << line;
    };
    block("stdout", result.out);
    block("stderr", result.err);
    return os << "\n";
}

// --- HeldContainer ------------------------------------------------------------------------

namespace detail {

/// The state of one held container, shared by the test's HeldContainer and the fixture
/// (which must be able to stop it even after the test dropped its handle).
struct HeldProcess {
    std::vector<std::string> argv;  // the lab command line
    std::string command;            // the same, rendered for messages
    std::string fifo;               // the FIFO, as the host sees it
    std::string outPath;            // the runtime's stdout and stderr go to files, so
    std::string errPath;            // nothing has to read pipes while the test inspects
    pid_t runtimePid = -1;
    pid_t containerPid = -1;  // the runtime's only child, once started
    UniqueFd writer;          // our end of the FIFO: CMD lives while it is open
    bool reaped = false;
    int status = 0;  // wait status, once reaped
    bool timedOut = false;
    std::string startFailure;  // why start did not succeed, "" if it did

    // Polls for the runtime's exit until `deadline`. True if it exited (and was reaped).
    bool waitUntil(Clock::time_point deadline) {
        while (!reaped) {
            const pid_t r = ::waitpid(runtimePid, &status, WNOHANG);
            if (r == runtimePid) {
                reaped = true;
            } else if (r < 0 && errno != EINTR) {
                // Someone else reaped it: it is gone; its status is unknown.
                reaped = true;
                status = W_EXITCODE(125, 0);
            } else if (Clock::now() >= deadline) {
                return false;
            } else {
                std::this_thread::sleep_for(kPollInterval);
            }
        }
        return true;
    }

    // SIGKILL the runtime's process group (the container is in it too) and reap.
    void killAndReap() {
        if (reaped) return;
        ::kill(-runtimePid, SIGKILL);
        ::kill(runtimePid, SIGKILL);
        timedOut = true;
        waitUntil(Clock::now() + kStopGrace);
    }

    RunResult result() const {
        RunResult r;
        r.command = command;
        r.exitCode = reaped ? exitCodeOfStatus(status) : -1;
        r.timedOut = timedOut;
        r.out = readIfPresent(outPath);
        r.err = readIfPresent(errPath);
        return r;
    }
};

}  // namespace detail

LabTest::HeldContainer::HeldContainer(std::shared_ptr<detail::HeldProcess> process)
    : process_(std::move(process)) {}
LabTest::HeldContainer::HeldContainer(HeldContainer&&) noexcept = default;
LabTest::HeldContainer& LabTest::HeldContainer::operator=(HeldContainer&&) noexcept = default;
LabTest::HeldContainer::~HeldContainer() = default;

::testing::AssertionResult LabTest::HeldContainer::started() const {
    if (process_->startFailure.empty()) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << process_->startFailure;
}

pid_t LabTest::HeldContainer::hostPid() const {
    return process_->containerPid;
}

pid_t LabTest::HeldContainer::runtimePid() const {
    return process_->runtimePid;
}

const std::string& LabTest::HeldContainer::command() const {
    return process_->command;
}

void LabTest::HeldContainer::release() {
    process_->writer.reset();
}

RunResult LabTest::HeldContainer::wait(std::chrono::seconds timeout) {
    release();
    if (!process_->waitUntil(Clock::now() + timeout)) process_->killAndReap();
    return process_->result();
}

// --- LabTest ------------------------------------------------------------------------------

LabTest::LabTest() = default;
LabTest::~LabTest() = default;

void LabTest::SetUp() {
    if (::geteuid() != 0) {
        GTEST_SKIP() << "lab tests need root (namespaces, mounts and cgroups): run them with sudo";
    }
    const std::string binary = labBinary();
    if (::access(binary.c_str(), X_OK) != 0) {
        FAIL() << "the lab executable " << binary << " is missing: build it first";
    }
    // Before anything of ours exists: every difference at TearDown is the test's doing.
    before_ = HostSnapshot::take();

    std::string pattern = fmt::format("{}/{}XXXXXX", kTempParent, kTestDirPrefix);
    if (::mkdtemp(pattern.data()) == nullptr) throw SysError("mkdtemp", pattern);
    base_ = pattern;
    ready_ = true;
    // mkdtemp makes it 0700; the container's processes may run as other users later.
    if (::chmod(base_.c_str(), 0755) != 0) throw SysError("chmod", base_);
    root_ = joinPath(base_, "root");
    if (::mkdir(root_.c_str(), 0755) != 0) throw SysError("mkdir", root_);
}

void LabTest::TearDown() {
    if (!ready_) return;
    ready_ = false;
    stopHeldContainers();
    removeNetworks();
    reportLeaks();
}

void LabTest::stopHeldContainers() {
    for (const auto& process : held_) {
        if (process->reaped) continue;
        // Gently first, so the runtime tears down what it made (its cgroup, its mounts):
        // release CMD, then kill CMD, and only then the runtime itself.
        process->writer.reset();
        if (process->waitUntil(Clock::now() + kStopGrace)) continue;
        if (process->containerPid > 0) ::kill(process->containerPid, SIGKILL);
        if (process->waitUntil(Clock::now() + kStopGrace)) continue;
        process->killAndReap();
    }
    held_.clear();
}

void LabTest::removeNetworks() {
    // Lab 06 on, a run makes the default network `bridge` (as dockerd makes docker0), and
    // it outlives the run: the test's --root goes at the end, so its networks go first,
    // through the runtime, as a user would remove them.
    const std::string dir = joinPath(root_, "networks");
    if (!isDirectory(dir)) return;
    for (const auto& file : listDir(dir)) {
        if (file.starts_with(".") || !file.ends_with(".json")) continue;
        const std::string name = file.substr(0, file.size() - 5);
        // Ample time: its iptables commands are many (a score), slow in a busy VM.
        constexpr auto kNetworkRmTimeout = 120s;
        const RunResult r = lab({"network", "rm", name}, kNetworkRmTimeout);
        if (r.exitCode != 0) ADD_FAILURE() << "could not remove network " << name << ": " << r;
    }
}

void LabTest::reportLeaks() {
    // Each step on its own: one that throws must not keep the others from cleaning up.
    auto check = [](const char* what, const auto& clean) {
        try {
            for (const auto& leak : clean()) {
                ADD_FAILURE() << "leak check: the test left " << leak
                              << " behind (expected nothing left; the harness cleaned it up)";
            }
        } catch (const std::exception& e) {
            ADD_FAILURE() << "leak check: could not check for leaked " << what << ": " << e.what();
        }
    };
    // Processes first (they may hold mounts and cgroups busy), then mounts (so removing the
    // temp dirs can never reach through a leaked bind mount), then cgroups and files.
    check("processes", [this] { return cleanStrayProcesses(before_); });
    check("mounts", [this] { return cleanLeakedMounts(before_); });
    check("cgroups", [this] { return cleanLeakedCgroups(before_); });
    const std::string why = removeTree(base_);
    if (!why.empty())
        ADD_FAILURE() << "could not remove the test's directory " << base_ << ": " << why;
    check("network state", [this] { return cleanLeakedNetwork(before_); });
    check("files", [this] { return cleanLeakedFiles(before_); });
}

void LabTest::expectOneErrorLine(const RunResult& r, const std::string& topic) {
    const auto lines = r.errLines();
    ASSERT_EQ(lines.size(), 1u) << "expected exactly one line on stderr" << r;
    const std::string& line = lines.front();
    const std::string prefix = "lab" + labNumber() + ": error: ";
    const std::regex form(prefix + ".+ \\(.+\\)");
    EXPECT_TRUE(std::regex_match(line, form))
        << "expected the form \"" << prefix << "<what> (<why>)\"" << r;
    EXPECT_EQ(line.find("TODO (lab "), std::string::npos)
        << "expected a real error, found the skeleton's TODO" << r;
    EXPECT_NE(line.find(topic), std::string::npos)
        << "expected the error to name the problem (\"" << topic << "\")" << r;
}

void LabTest::expectRejected(const RunResult& r, const std::string& topic) {
    constexpr int kRuntimeFailure = 125;  // docker run's code for bad input
    EXPECT_EQ(r.exitCode, kRuntimeFailure) << "expected exit 125 for bad input" << r;
    expectOneErrorLine(r, topic);
    const auto left = rootEntries();
    EXPECT_TRUE(left.empty()) << "expected --root to stay empty after bad input, found: "
                              << ::testing::PrintToString(left) << r;
    EXPECT_TRUE(newHostMounts().empty()) << "expected no new mount on the host" << r;
    const auto cgroups = newCgroupDirs();
    EXPECT_TRUE(cgroups.empty()) << "expected no new cgroup after bad input, found "
                                 << ::testing::PrintToString(cgroups) << r;
}

void LabTest::expectSignalsAtStartLeaveNothing(const std::vector<std::string>& runFlags,
                                               int tries) {
    constexpr int kCommandExit = 7;
    constexpr long kLatestMicros = 10000;  // 10 ms: a whole run, on a fast machine
    constexpr auto kSettleTime = 2s;       // for a killed container to be gone
    const int signals[] = {SIGTERM, SIGINT, SIGHUP};
    std::random_device seed;
    const unsigned seedValue = seed();
    std::mt19937 random(seedValue);
    const std::string containers = joinPath(root_, "containers");
    const std::string live = joinPath(root_, "live");
    auto entries = [](const std::string& dir) {
        return isDirectory(dir) ? listDir(dir) : std::vector<std::string>{};
    };
    std::vector<std::string> args = {"run"};
    args.insert(args.end(), runFlags.begin(), runFlags.end());
    args.insert(args.end(), {"--", probeBinary(), "exit", std::to_string(kCommandExit)});

    // How long a whole run takes here, unsignalled: the signals are spread over it.
    const auto start = Clock::now();
    const RunResult plain = lab(args);
    ASSERT_EQ(plain.exitCode, kCommandExit) << "expected a run without signals to work" << plain;
    const long wholeRun =
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count();
    std::uniform_int_distribution<long> delayMicros(0, std::max(kLatestMicros, wholeRun));

    // Each try is judged by what it added, so one leak is reported once, not by every
    // try after it; past a few failing tries the rest would only repeat them.
    constexpr int kFailingTriesShown = 3;
    int failingTries = 0;
    int interrupted = 0;
    for (int i = 0; i < tries && failingTries < kFailingTriesShown; ++i) {
        const int signal = signals[i % std::size(signals)];
        const long delay = delayMicros(random);
        SCOPED_TRACE(fmt::format("try {} of {}: {} {} us after the fork (seed {})", i + 1, tries,
                                 sigabbrev_np(signal), delay, seedValue));
        const auto recordsBefore = entries(containers);
        const auto liveBefore = entries(live);
        const auto cgroupsBefore = mydockerCgroupDirs();
        const bool failedBefore = HasFailure();
        LaunchOptions options;
        options.timeout = kDefaultTimeout;
        options.afterStart = [&](pid_t pid) {
            std::this_thread::sleep_for(std::chrono::microseconds(delay));
            ::kill(pid, signal);
        };
        const RunResult r = lab(args, options);
        ASSERT_FALSE(r.timedOut) << "expected the run to end" << r;
        const bool reachedCommand = r.exitCode == kCommandExit;
        if (!reachedCommand) ++interrupted;
        EXPECT_TRUE(reachedCommand || r.exitCode == 128 + signal)
            << "expected CMD's " << kCommandExit << " or 128+" << signal << r;

        EXPECT_EQ(entries(live), liveBefore) << "expected no live container after the run" << r;
        for (const auto& id : entries(containers)) {
            if (std::find(recordsBefore.begin(), recordsBefore.end(), id) != recordsBefore.end())
                continue;
            const std::string state =
                readIfPresent(joinPath(joinPath(containers, id), "state.json"));
            EXPECT_TRUE(reachedCommand) << "expected no record of a container that never ran "
                                        << "CMD, found " << id << ":\n"
                                        << state << r;
            EXPECT_NE(state.find("\"exited\""), std::string::npos)
                << "expected the record to say \"exited\", " << id << " has:\n"
                << state << r;
        }
        std::vector<std::string> cgroups;
        for (const auto& dir : mydockerCgroupDirs()) {
            if (cgroupsBefore.count(dir) == 0) cgroups.push_back(dir);
        }
        EXPECT_TRUE(cgroups.empty())
            << "expected no cgroup left, found " << ::testing::PrintToString(cgroups) << r;
        auto processes = newLiveProcesses();
        for (const auto deadline = Clock::now() + kSettleTime;
             !processes.empty() && Clock::now() < deadline; processes = newLiveProcesses()) {
            std::this_thread::sleep_for(kPollInterval);
        }
        for (const pid_t pid : processes) {
            ADD_FAILURE() << "expected nothing left running, found pid " << pid << " ("
                          << commandLineOf(pid) << ")" << r;
            ::kill(pid, SIGKILL);
        }
        if (HasFailure() && !failedBefore) ++failingTries;
    }
    if (failingTries == kFailingTriesShown) {
        ADD_FAILURE() << "stopped after " << kFailingTriesShown << " failing tries";
    }
    // Not a check (it depends on the machine's speed): what the runs met, for the log.
    RecordProperty("whole_run_us", static_cast<int>(wholeRun));
    RecordProperty("interrupted_before_cmd", interrupted);
    RecordProperty("reached_cmd", tries - interrupted);
}

RunResult LabTest::runProbe(const std::vector<std::string>& flags,
                            const std::vector<std::string>& probeArgs,
                            std::chrono::seconds timeout) {
    std::vector<std::string> args = {"run"};
    args.insert(args.end(), flags.begin(), flags.end());
    args.push_back("--");
    args.push_back(probeBinary());
    args.insert(args.end(), probeArgs.begin(), probeArgs.end());
    return lab(args, timeout);
}

RunResult LabTest::lab(const std::vector<std::string>& args, std::chrono::seconds timeout) {
    LaunchOptions options;
    options.timeout = timeout;
    return lab(args, options);
}

RunResult LabTest::lab(const std::vector<std::string>& args, const LaunchOptions& options) {
    std::vector<std::string> argv = {labBinary(), "--root", root_};
    argv.insert(argv.end(), args.begin(), args.end());
    return launch(argv, options);
}

RunResult LabTest::launch(const std::vector<std::string>& argv, const LaunchOptions& options) {
    // stdout and stderr go to files, not pipes: nothing has to read them while it runs,
    // and a runtime that leaves a process holding them open cannot hang the test.
    const int n = ++tempCount_;
    const std::string outPath = joinPath(base_, fmt::format("lab-{}.out", n));
    const std::string errPath = joinPath(base_, fmt::format("lab-{}.err", n));
    std::vector<std::pair<int, UniqueFd>> fds;  // target fd -> what goes there
    auto openAs = [&fds](int target, const std::string& path, int flags) {
        UniqueFd fd(::open(path.c_str(), flags | O_CLOEXEC, 0644));
        if (!fd) throw SysError("open", path);
        fds.emplace_back(target, std::move(fd));
    };
    openAs(STDIN_FILENO, "/dev/null", O_RDONLY);
    openAs(STDOUT_FILENO, outPath, O_WRONLY | O_CREAT | O_TRUNC);
    switch (options.stderrIs) {
        case LaunchOptions::Stderr::captured:
            openAs(STDERR_FILENO, errPath, O_WRONLY | O_CREAT | O_TRUNC);
            break;
        case LaunchOptions::Stderr::closed:
            break;
        case LaunchOptions::Stderr::brokenPipe: {
            int ends[2];
            if (::pipe2(ends, O_CLOEXEC) != 0) throw SysError("pipe2");
            ::close(ends[0]);  // no reader: a write to the other end is EPIPE and SIGPIPE
            fds.emplace_back(STDERR_FILENO, UniqueFd(ends[1]));
            break;
        }
    }
    for (const auto& [target, path] : options.inheritedFds) {
        if (target <= STDERR_FILENO) throw std::invalid_argument("inheritedFds: fd 3 or more");
        openAs(target, path, O_RDONLY);
    }
    std::vector<char*> args;
    for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    // The child must not allocate (another thread of the test may hold malloc's lock).
    std::vector<int> high(fds.size(), -1);

    const pid_t pid = ::fork();
    if (pid < 0) throw SysError("fork");
    if (pid == 0) {
        // The child: only async-signal-safe calls until exec, and _exit, never exit: this
        // is a copy of the test process (its gtest state included).
        ::setpgid(0, 0);  // its own process group: a timeout kills the container with it
        // First every source far above the targets, then each to its target: dup2 never
        // overwrites a source still to be placed, and the copy at the target has no
        // O_CLOEXEC (dup2 clears it), unlike every other fd of this process.
        constexpr int kAboveTargets = 100;
        for (std::size_t i = 0; i < fds.size(); ++i) {
            high[i] = ::fcntl(fds[i].second.get(), F_DUPFD_CLOEXEC, kAboveTargets);
            if (high[i] < 0) ::_exit(kExecFailed);
        }
        if (options.stderrIs == LaunchOptions::Stderr::closed) ::close(STDERR_FILENO);
        // Whatever else the test process has open (without O_CLOEXEC or not) stays here.
        ::close_range(STDERR_FILENO + 1, ~0U, CLOSE_RANGE_CLOEXEC);
        for (std::size_t i = 0; i < fds.size(); ++i) {
            if (::dup2(high[i], fds[i].first) < 0) ::_exit(kExecFailed);
        }
        // What the test process blocked or ignored, the runtime must not inherit.
        sigset_t none;
        ::sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        struct sigaction defaults {};
        defaults.sa_handler = SIG_DFL;
        ::sigaction(SIGPIPE, &defaults, nullptr);
        ::execv(args[0], args.data());
        static const char kMessage[] = "test harness: exec of the lab binary failed\n";
        [[maybe_unused]] const ssize_t w = ::write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
        ::_exit(kExecFailed);
    }
    ::setpgid(pid, pid);  // also from this side, so the group exists before any kill
    fds.clear();          // the child has its copies
    if (options.afterStart) options.afterStart(pid);

    RunResult result;
    result.command = commandLine(argv);
    int status = 0;
    const auto deadline = Clock::now() + options.timeout;
    for (;;) {
        const pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid) break;
        if (r < 0 && errno != EINTR) throw SysError("waitpid", std::to_string(pid));
        if (!result.timedOut && Clock::now() >= deadline) {
            result.timedOut = true;
            ::kill(-pid, SIGKILL);
            ::kill(pid, SIGKILL);
        }
        std::this_thread::sleep_for(kLaunchPollInterval);
    }
    result.exitCode = exitCodeOfStatus(status);
    result.out = readIfPresent(outPath);
    result.err = readIfPresent(errPath);
    ::unlink(outPath.c_str());
    ::unlink(errPath.c_str());
    return result;
}

std::string LabTest::root() const {
    return root_;
}

std::vector<std::string> LabTest::rootEntries() const {
    std::vector<std::string> entries;
    listRecursively(root_, "", entries);
    return entries;
}

std::string LabTest::makeTempPath(const std::string& kind) {
    return joinPath(base_, fmt::format("{}-{}", kind, ++tempCount_));
}

std::string LabTest::makeTempDir() {
    const std::string dir = makeTempPath("tmp");
    if (::mkdir(dir.c_str(), 0755) != 0) throw SysError("mkdir", dir);
    return dir;
}

std::string LabTest::makeTempFile(const std::string& content, mode_t mode) {
    const std::string path = joinPath(makeTempDir(), "file");
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
    if (!fd) throw SysError("open", path);
    if (::write(fd.get(), content.data(), content.size()) != static_cast<ssize_t>(content.size())) {
        throw SysError("write", path);
    }
    // open(2) applies the umask; the test asked for exactly `mode`.
    if (::fchmod(fd.get(), mode) != 0) throw SysError("fchmod", path);
    return path;
}

std::string LabTest::makeRootfs() {
    const std::string source = busyboxRootfs();
    if (!isDirectory(source)) {
        throw std::runtime_error("no busybox rootfs at " + source +
                                 ": build the busybox_image target");
    }
    const std::string rootfs = makeTempPath("rootfs");
    const std::string probe = joinPath(rootfs, kProbeInRootfs);
    for (const auto& argv : {std::vector<std::string>{"cp", "-a", source, rootfs},
                             std::vector<std::string>{"cp", probeBinary(), probe}}) {
        // Copying the image can be slow: over the VM's 9p share without kvm it takes
        // 15-25 s, too close to runProcess's default 30 s.
        SpawnOptions options;
        options.timeout = kCopyTimeout;
        const ProcessResult cp = runProcess(argv, options);
        if (cp.exitCode() != 0) {
            throw std::runtime_error(
                fmt::format("{} failed ({}): {}", commandLine(argv), cp.exitCode(), cp.err));
        }
    }
    if (::chmod(probe.c_str(), 0755) != 0) throw SysError("chmod", probe);
    return rootfs;
}

SharedHostRun LabTest::labOnSharedHost(const std::vector<std::string>& args,
                                       std::chrono::seconds timeout) {
    // The shell prints its namespace's mount table before and after the command, between
    // separator lines; the command's own stdout stays in the middle. It reads the table
    // through a procfs of its own, made private: a /proc that leaked back from the
    // container would hide the real one (and its /proc/self) at /proc.
    static const std::string kSeparator = "--- mydocker-test mount table ---";
    // unshare(1) makes the copied mounts private first, so that nothing done in the new
    // namespace reaches the machine's own (whose mounts may be shared: systemd's), then
    // the script makes them shared again, as peers of the container's only.
    const std::string script =
        "proc=$1; shift; mount --make-rshared / && mount -t proc proc \"$proc\" && "
        "mount --make-private \"$proc\" || exit 125; cat \"$proc/self/mountinfo\"; echo '" +
        kSeparator + "'; \"$@\"; rc=$?; " + "echo '" + kSeparator +
        "'; cat \"$proc/self/mountinfo\"; exit $rc";
    std::vector<std::string> argv = {
        "unshare", "--mount", "--propagation", "private",   "--",     "/bin/sh", "-c",
        script,    "sh",      makeTempDir(),   labBinary(), "--root", root_};
    argv.insert(argv.end(), args.begin(), args.end());
    SpawnOptions options;
    options.timeout = timeout;
    const ProcessResult process = runProcess(argv, options);

    SharedHostRun run;
    run.result.command = commandLine(argv);
    run.result.exitCode = process.exitCode();
    run.result.timedOut = process.timedOut;
    run.result.err = process.err;
    const auto first = process.out.find(kSeparator + "\n");
    const auto last = process.out.rfind(kSeparator + "\n");
    if (first == std::string::npos || last == first) {
        run.result.out = process.out;  // the shell never got that far: the caller sees why
        return run;
    }
    const auto before = parseMountInfo(process.out.substr(0, first));
    const std::size_t middle = first + kSeparator.size() + 1;
    run.result.out = process.out.substr(middle, last - middle);
    std::set<int> known;
    for (const auto& m : before) known.insert(m.id);
    for (const auto& m : parseMountInfo(process.out.substr(last + kSeparator.size() + 1))) {
        if (known.count(m.id) == 0) run.newMounts.push_back(m);
    }
    return run;
}

std::vector<std::string> LabTest::newCgroupDirs() const {
    std::vector<std::string> fresh;
    for (const auto& dir : mydockerCgroupDirs()) {
        if (before_.cgroupDirs.count(dir) == 0) fresh.push_back(dir);
    }
    return fresh;
}

std::vector<pid_t> LabTest::newLiveProcesses() const {
    std::vector<pid_t> alive;
    for (const pid_t pid : descendantsOf(::getpid())) {
        if (before_.processes.count(pid) != 0) continue;
        const char state = processState(pid);
        if (state != 0 && state != 'Z' && state != 'X') alive.push_back(pid);
    }
    return alive;
}

std::vector<MountInfo> LabTest::newHostMounts() const {
    std::vector<MountInfo> fresh;
    for (const auto& m : mountInfo()) {
        if (before_.mounts.count(mountKey(m.id, m.device, m.mountPoint, m.fsType)) == 0) {
            fresh.push_back(m);
        }
    }
    return fresh;
}

LabTest::HeldContainer LabTest::startHeld(std::vector<std::string> runFlags,
                                          const std::string& rootfs) {
    auto process = std::make_shared<detail::HeldProcess>();
    const int n = ++tempCount_;
    std::string probe;
    std::string fifoInContainer;
    if (rootfs.empty()) {
        // The container sees the host's files: the FIFO and the probe are host paths.
        process->fifo = joinPath(base_, fmt::format("hold-{}.fifo", n));
        fifoInContainer = process->fifo;
        probe = probeBinary();
    } else {
        const std::string run = joinPath(rootfs, "run");
        makeDirs(run);
        process->fifo = joinPath(run, fmt::format("hold-{}.fifo", n));
        fifoInContainer = fmt::format("/run/hold-{}.fifo", n);
        probe = kProbeInRootfs;
        runFlags.insert(runFlags.end(), {"--rootfs", rootfs});
    }
    if (::mkfifo(process->fifo.c_str(), 0600) != 0) throw SysError("mkfifo", process->fifo);

    process->argv = {labBinary(), "--root", root_, "run"};
    process->argv.insert(process->argv.end(), runFlags.begin(), runFlags.end());
    process->argv.insert(process->argv.end(), {"--", probe, "hold", fifoInContainer});
    process->command = commandLine(process->argv);
    process->outPath = joinPath(base_, fmt::format("held-{}.out", n));
    process->errPath = joinPath(base_, fmt::format("held-{}.err", n));
    held_.push_back(process);
    start(*process);
    return HeldContainer(process);
}

void LabTest::start(detail::HeldProcess& process) {
    UniqueFd out(::open(process.outPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!out) throw SysError("open", process.outPath);
    UniqueFd err(::open(process.errPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!err) throw SysError("open", process.errPath);
    UniqueFd in(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    if (!in) throw SysError("open", "/dev/null");
    std::vector<char*> argv;
    for (auto& arg : process.argv) argv.push_back(arg.data());
    argv.push_back(nullptr);

    const pid_t pid = ::fork();
    if (pid < 0) throw SysError("fork");
    if (pid == 0) {
        // The child: only async-signal-safe calls until exec, and _exit, never exit: this
        // is a copy of the test process (its gtest state included).
        ::setpgid(0, 0);  // its own process group: a timeout kills the container with it
        if (::dup2(in.get(), STDIN_FILENO) < 0 || ::dup2(out.get(), STDOUT_FILENO) < 0 ||
            ::dup2(err.get(), STDERR_FILENO) < 0) {
            ::_exit(kExecFailed);
        }
        ::execv(argv[0], argv.data());
        static const char kMessage[] = "test harness: exec of the lab binary failed\n";
        [[maybe_unused]] const ssize_t n = ::write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
        ::_exit(kExecFailed);
    }
    process.runtimePid = pid;
    ::setpgid(pid, pid);  // also from this side, so the group exists before any kill

    // CMD opening the FIFO for reading is the sign that setup is complete. A non-blocking
    // open for writing fails with ENXIO until a reader has it open (fifo(7)).
    const auto deadline = Clock::now() + kStartTimeout;
    for (;;) {
        const int fd = ::open(process.fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd >= 0) {
            process.writer.reset(fd);
            break;
        }
        if (errno != ENXIO && errno != EINTR) {
            process.startFailure = fmt::format("open {}: {}", process.fifo, std::strerror(errno));
            process.killAndReap();
            return;
        }
        if (process.waitUntil(Clock::now())) {
            process.startFailure = fmt::format(
                "expected the container to start and run CMD, but the runtime exited first{}",
                ::testing::PrintToString(process.result()));
            return;
        }
        if (Clock::now() > deadline) {
            process.killAndReap();
            process.startFailure = fmt::format(
                "expected CMD to open {} within {} s, but it did not (killed it){}", process.fifo,
                kStartTimeout.count(), ::testing::PrintToString(process.result()));
            return;
        }
        std::this_thread::sleep_for(kPollInterval);
    }

    const std::vector<pid_t> children = childrenOf(pid);
    if (children.size() != 1) {
        process.startFailure = fmt::format(
            "expected the runtime (pid {}) to have exactly one child, the container's PID 1; "
            "found {}",
            pid, children.size());
        return;
    }
    process.containerPid = children.front();
}

}  // namespace mydocker::test
