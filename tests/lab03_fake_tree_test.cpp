// Lab 03's unit tests: the contract (cgroups.hpp) called directly, both implementations
// run against a fake cgroup tree in a temporary directory (youki's way), so the v1 code
// is checked on a v2 host and the other way round.
//
// A fake tree is plain directories and files. What the kernel would do on its own (fill
// a new cgroup directory with its files) the test does by hand, and says so.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "mydocker/cgroups.hpp"
#include "mydocker/error.hpp"
#include "mydocker/file.hpp"
#include "mydocker/scope_guard.hpp"
#include "support/fake_cgroup_tree.hpp"
#include "support/kernel_state.hpp"

namespace mydocker::test {
namespace {

namespace cg = mydocker::cgroups;

constexpr const char* kPath = kFakeCgroupPath;

class Lab03FakeTree : public FakeCgroupTree {
protected:
    /// The v1 hierarchies of the fake tree: each controller mounted on its own.
    cg::ControllerMounts v1Mounts() const {
        cg::ControllerMounts mounts;
        for (const std::string controller : {"cpu", "cpuacct", "cpuset", "memory", "pids"}) {
            mounts[controller] = at(controller);
        }
        return mounts;
    }

    /// The root of every v1 hierarchy, as the kernel shows it; cpuset with CPUs 0-3, node 0.
    void v1Roots() {
        for (const std::string controller : {"cpu", "cpuacct", "memory", "pids"}) {
            kernelDir(controller, {{"cgroup.procs", ""}});
        }
        kernelDir("cpuset",
                  {{"cgroup.procs", ""}, {"cpuset.cpus", "0-3\n"}, {"cpuset.mems", "0\n"}});
    }
};

/// Runs `body`, which must fail on a file the fake kernel did not make: SysError ENOENT.
template <class Body>
void expectMissingFile(Body body) {
    try {
        body();
        ADD_FAILURE() << "expected create() to fail: this fake kernel does not fill new cgroups";
    } catch (const SysError& e) {
        EXPECT_EQ(e.code(), ENOENT) << e.what();
    } catch (const std::exception& e) {
        ADD_FAILURE() << "expected a SysError (ENOENT) from a missing file, got: " << e.what();
    }
}

/// A child that waits to be killed; returns its pid.
pid_t startSleeper() {
    const pid_t pid = ::fork();
    if (pid < 0) throw SysError("fork");
    if (pid == 0) {
        for (;;) ::pause();
    }
    return pid;
}

/// Waits for `pid` (at most 3 s; SIGKILLs it past that) and returns the signal that
/// ended it, or 0 if it had to be killed here.
int reapSignal(pid_t pid) {
    constexpr int kPolls = 300;  // of 10 ms
    for (int i = 0; i < kPolls; ++i) {
        int status = 0;
        if (::waitpid(pid, &status, WNOHANG) == pid) {
            return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
        }
        ::usleep(10000);
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return 0;
}

// V1Cgroup on a fake tree of five hierarchies: create() makes the directory in each one
// and copies cpuset.cpus and cpuset.mems from the parent into both new cpuset levels;
// applyLimits() writes the v1 files; attach() writes the pid in every hierarchy; usage()
// reads cpuacct.usage and pids.current; killAll() SIGKILLs what cgroup.procs lists.
GRADED_TEST_F(Lab03FakeTree, V1CgroupWritesTheV1Files, 6) {
    v1Roots();
    // The kernel makes a new cpuset cgroup with empty cpuset.cpus and cpuset.mems.
    const std::map<std::string, std::string> emptyCpuset = {
        {"cgroup.procs", ""}, {"cpuset.cpus", "\n"}, {"cpuset.mems", "\n"}};
    kernelDir("cpuset/mydocker", emptyCpuset);
    kernelDir(std::string("cpuset/") + kPath, emptyCpuset);

    cg::V1Cgroup cgroup(v1Mounts(), kPath);
    EXPECT_EQ(cgroup.version(), 1);
    cgroup.create();
    for (const std::string controller : {"cpu", "cpuacct", "cpuset", "memory", "pids"}) {
        EXPECT_TRUE(isDirectory(at(controller + "/" + kPath)))
            << "expected the cgroup in the " << controller << " hierarchy";
        EXPECT_EQ(cgroup.directory(controller), at(controller + "/" + kPath));
    }
    for (const std::string& level :
         {std::string("cpuset/mydocker"), std::string("cpuset/") + kPath}) {
        EXPECT_EQ(contents(level + "/cpuset.cpus"), "0-3")
            << "expected the parent's CPUs in " << level;
        EXPECT_EQ(contents(level + "/cpuset.mems"), "0")
            << "expected the parent's nodes in " << level;
    }

    // The kernel's files of the new cgroups.
    const std::string leaf = std::string("/") + kPath;
    kernelDir("cpu" + leaf, {{"cgroup.procs", ""},
                             {"cpu.cfs_period_us", "100000\n"},
                             {"cpu.cfs_quota_us", "-1\n"},
                             {"cpu.shares", "1024\n"}});
    kernelDir("cpuacct" + leaf, {{"cgroup.procs", ""}, {"cpuacct.usage", "2500000\n"}});
    kernelDir("memory" + leaf, {{"cgroup.procs", ""}});
    kernelDir("pids" + leaf,
              {{"cgroup.procs", ""}, {"pids.max", "max\n"}, {"pids.current", "3\n"}});

    ResourceLimits limits;
    limits.cpus = 1.5;
    limits.cpuShares = 512;
    limits.cpusetCpus = "1-2";
    limits.pidsLimit = 42;
    cgroup.applyLimits(limits);
    EXPECT_EQ(contents("cpu" + leaf + "/cpu.cfs_period_us"), "100000");
    EXPECT_EQ(contents("cpu" + leaf + "/cpu.cfs_quota_us"), "150000");
    EXPECT_EQ(contents("cpu" + leaf + "/cpu.shares"), "512");
    EXPECT_EQ(contents("cpuset" + leaf + "/cpuset.cpus"), "1-2");
    EXPECT_EQ(contents("pids" + leaf + "/pids.max"), "42");

    // A real process stands in for the container, so that killAll() has one to kill.
    const pid_t sleeper = startSleeper();
    ScopeGuard stopSleeper([&] { ::kill(sleeper, SIGKILL); ::waitpid(sleeper, nullptr, 0); });
    cgroup.attach(sleeper);
    for (const std::string controller : {"cpu", "cpuacct", "cpuset", "memory", "pids"}) {
        EXPECT_EQ(contents(controller + leaf + "/cgroup.procs"), std::to_string(sleeper))
            << "expected the pid in the " << controller << " hierarchy";
    }

    const cg::Usage usage = cgroup.usage();
    EXPECT_EQ(usage.cpuMicros, 2500u) << "cpuacct.usage is in nanoseconds";
    EXPECT_EQ(usage.tasks, 3u);

    cgroup.killAll();
    EXPECT_EQ(reapSignal(sleeper), SIGKILL)
        << "expected killAll to SIGKILL the pid in cgroup.procs";
    stopSleeper.dismiss();
}

// V2Cgroup on a fake unified tree: create() enables the controllers the root has in its
// cgroup.subtree_control (only those not enabled yet) and all four in mydocker/'s;
// applyLimits() writes cpu.max, cpu.weight (converted), cpuset.cpus and pids.max;
// attach() writes cgroup.procs; usage() reads cpu.stat; killAll() uses cgroup.kill.
GRADED_TEST_F(Lab03FakeTree, V2CgroupWritesTheV2Files, 6) {
    // The root offers io too (not wanted) and has memory enabled already.
    kernelDir("", {{"cgroup.controllers", "cpuset cpu io memory pids\n"},
                   {"cgroup.subtree_control", "memory\n"},
                   {"cgroup.procs", ""}});
    // What the kernel shows in mydocker/ and its child once the root enabled them.
    const std::string leaf = kPath;
    kernelDir("mydocker", {{"cgroup.controllers", "cpuset cpu memory pids\n"},
                           {"cgroup.subtree_control", "\n"},
                           {"cgroup.procs", ""}});
    kernelDir(leaf, {{"cgroup.controllers", "cpuset cpu memory pids\n"},
                     {"cgroup.procs", ""},
                     {"cgroup.kill", ""},
                     {"cpu.max", "max 100000\n"},
                     {"cpu.weight", "100\n"},
                     {"cpu.stat", "usage_usec 7000\nuser_usec 5000\nsystem_usec 2000\n"},
                     {"cpuset.cpus", "\n"},
                     {"pids.max", "max\n"},
                     {"pids.current", "2\n"}});

    cg::V2Cgroup cgroup(base_, kPath);
    EXPECT_EQ(cgroup.version(), 2);
    cgroup.create();
    EXPECT_EQ(contents("cgroup.subtree_control"), "+cpu +cpuset +pids")
        << "expected the root to enable, in one write, what it has and has not enabled yet";
    EXPECT_EQ(contents("mydocker/cgroup.subtree_control"), "+cpu +cpuset +memory +pids")
        << "expected mydocker/ to enable every controller for the containers";
    EXPECT_TRUE(cgroup.hasController("memory"));
    EXPECT_FALSE(cgroup.hasController("io"));
    EXPECT_THROW(cgroup.directory("io"), Error);

    ResourceLimits limits;
    limits.cpus = 0.5;
    limits.cpuShares = 1024;
    limits.cpusetCpus = "0";
    limits.pidsLimit = 7;
    cgroup.applyLimits(limits);
    EXPECT_EQ(contents(leaf + "/cpu.max"), "50000 100000");
    EXPECT_EQ(contents(leaf + "/cpu.weight"), "100")
        << "expected the default 1024 shares to give the default weight 100";
    EXPECT_EQ(contents(leaf + "/cpuset.cpus"), "0");
    EXPECT_EQ(contents(leaf + "/pids.max"), "7");

    const pid_t sleeper = startSleeper();
    ScopeGuard stopSleeper([&] { ::kill(sleeper, SIGKILL); ::waitpid(sleeper, nullptr, 0); });
    cgroup.attach(sleeper);
    EXPECT_EQ(contents(leaf + "/cgroup.procs"), std::to_string(sleeper));

    const cg::Usage usage = cgroup.usage();
    EXPECT_EQ(usage.cpuMicros, 7000u);
    EXPECT_EQ(usage.tasks, 2u);

    cgroup.killAll();
    EXPECT_EQ(contents(leaf + "/cgroup.kill"), "1") << "expected killAll to use cgroup.kill";

    // A kernel before 5.14 has no cgroup.kill: then each pid of cgroup.procs is killed.
    removeAll(at(leaf + "/cgroup.kill"));
    cgroup.killAll();
    EXPECT_EQ(reapSignal(sleeper), SIGKILL)
        << "expected killAll without cgroup.kill to SIGKILL the pid in cgroup.procs";
    stopSleeper.dismiss();
}

// A create() that fails half-way removes the directories it made. v1: the cpu and
// cpuacct directories are made before the cpuset one fails (this fake kernel does not
// fill the new cpuset cgroup). v2: mydocker/ is made, then reading its controllers fails.
GRADED_TEST_F(Lab03FakeTree, CreateThatFailsRemovesWhatItMade, 3) {
    v1Roots();
    cg::V1Cgroup v1(v1Mounts(), kPath);
    expectMissingFile([&] { v1.create(); });
    for (const std::string controller : {"cpu", "cpuacct", "cpuset", "memory", "pids"}) {
        EXPECT_FALSE(pathExists(at(controller + "/mydocker")))
            << "expected no mydocker/ left in the " << controller << " hierarchy";
    }

    kernelDir("unified", {{"cgroup.controllers", "cpu memory pids\n"},
                          {"cgroup.subtree_control", "\n"}});
    cg::V2Cgroup v2(at("unified"), kPath);
    expectMissingFile([&] { v2.create(); });
    EXPECT_FALSE(pathExists(at("unified/mydocker"))) << "expected no mydocker/ left";
}

// The mode is read from the filesystem types (it matches the harness's own reading of the
// mount table), and the v1 hierarchies from mountinfo: co-mounted controllers share a
// directory, `name=systemd` and cgroup2 are not controllers, the first mount wins.
GRADED_TEST_F(Lab03FakeTree, ModeAndV1MountsAreDetected, 3) {
    const cg::Mode expected = cgroupMode() == CgroupMode::v2       ? cg::Mode::unified
                              : cgroupMode() == CgroupMode::hybrid ? cg::Mode::hybrid
                                                                   : cg::Mode::legacy;
    EXPECT_EQ(cg::detectMode(), expected)
        << "detected " << cg::modeName(cg::detectMode()) << ", the mount table says "
        << toString(cgroupMode());

    const std::string mountinfo =
        "25 30 0:23 / /sys rw,nosuid shared:7 - sysfs sysfs rw\n"
        "31 25 0:27 / /sys/fs/cgroup ro shared:9 - tmpfs tmpfs ro,mode=755\n"
        "32 31 0:28 / /sys/fs/cgroup/unified rw shared:10 - cgroup2 cgroup2 rw\n"
        "33 31 0:29 / /sys/fs/cgroup/systemd rw shared:11 - cgroup cgroup rw,xattr,name=systemd\n"
        "34 31 0:30 / /sys/fs/cgroup/cpu,cpuacct rw shared:12 - cgroup cgroup rw,cpu,cpuacct\n"
        "35 31 0:31 / /sys/fs/cgroup/memory rw shared:13 master:1 - cgroup cgroup rw,memory\n"
        "36 31 0:32 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n"
        "37 31 0:33 / /mnt/with\\040space rw - cgroup cgroup rw,cpuset\n"
        "38 31 0:29 / /elsewhere/memory rw - cgroup cgroup rw,memory\n";
    const cg::ControllerMounts mounts = cg::parseV1Mounts(mountinfo);
    const cg::ControllerMounts want = {{"cpu", "/sys/fs/cgroup/cpu,cpuacct"},
                                       {"cpuacct", "/sys/fs/cgroup/cpu,cpuacct"},
                                       {"cpuset", "/mnt/with space"},
                                       {"memory", "/sys/fs/cgroup/memory"},
                                       {"pids", "/sys/fs/cgroup/pids"}};
    EXPECT_EQ(mounts, want);
}

// The flags' parsers and the arithmetic behind them.
GRADED_TEST_F(Lab03FakeTree, FlagsAreParsedAndConverted, 2) {
    EXPECT_EQ(cg::parseCpus("0.5", 2), 0.5);
    EXPECT_EQ(cg::parseCpus("2", 2), 2.0);
    EXPECT_EQ(cg::parseCpus("0.01", 1), 0.01);
    for (const char* bad : {"0", "-1", "abc", "2.5", "0.001", "inf", "nan", "1x", ""}) {
        EXPECT_THROW(cg::parseCpus(bad, 2), UsageError) << "--cpus " << bad;
    }
    EXPECT_EQ(cg::parseCpuShares("512"), 512u);
    for (const char* bad : {"1", "262145", "abc", "-2", "5x"}) {
        EXPECT_THROW(cg::parseCpuShares(bad), UsageError) << "--cpu-shares " << bad;
    }
    EXPECT_EQ(cg::parseCpuList("0-3,5"), (std::vector<unsigned>{0, 1, 2, 3, 5}));
    EXPECT_EQ(cg::parseCpusetCpus("0-1,3", {0, 1, 2, 3}), "0-1,3");
    for (const char* bad : {"4", "a", "1-0", "0,,1", "", "-1"}) {
        EXPECT_THROW(cg::parseCpusetCpus(bad, {0, 1, 2, 3}), UsageError) << "--cpuset-cpus " << bad;
    }
    // Past any kernel's CPUs: refused before the range is expanded (else gigabytes).
    for (const char* huge : {"0-4294967295", "0-99999999", "0-2,0-4294967295", "8192"}) {
        EXPECT_THROW(cg::parseCpuList(huge), UsageError) << "CPU list " << huge;
    }
    EXPECT_EQ(cg::parsePidsLimit("1"), 1);
    for (const char* bad : {"0", "-1", "abc", "10k"}) {
        EXPECT_THROW(cg::parsePidsLimit(bad), UsageError) << "--pids-limit " << bad;
    }
    EXPECT_EQ(cg::cfsQuotaMicros(0.5), 50000u);
    EXPECT_EQ(cg::cfsQuotaMicros(1.5), 150000u);
    // runc's and crun's quadratic in log2(shares): the minimum, the default and the
    // maximum map onto each other; values between are rounded up.
    EXPECT_EQ(cg::cpuWeightFromShares(2), 1u);
    EXPECT_EQ(cg::cpuWeightFromShares(512), 59u);
    EXPECT_EQ(cg::cpuWeightFromShares(1024), 100u);
    EXPECT_EQ(cg::cpuWeightFromShares(2048), 174u);
    EXPECT_EQ(cg::cpuWeightFromShares(262144), 10000u);
}

}  // namespace
}  // namespace mydocker::test
