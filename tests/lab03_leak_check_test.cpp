// The harness's leak check itself (ungraded): what a test may leave is judged against the
// host as it was when the test started, never against an ideal host. A cgroup left by an
// earlier run that crashed (or by a user's own runtime) is not the test's doing: it must
// fail no check, or one stray cgroup would fail every graded cgroup test until a reboot.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "mydocker/error.hpp"
#include "mydocker/file.hpp"
#include "support/lab_test.hpp"

namespace mydocker::test {
namespace {

/// The stray: named as a container's cgroup is (64 hex digits), below mydocker/.
constexpr const char* kStrayId = "deadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeef";

/// The v1 cpuset files a new cpuset cgroup starts without (empty), copied from its parent
/// as the runtime would: a crashed run left them filled. (On v2 an empty one inherits its
/// parent's, and the root has none.)
const std::vector<std::string> kCpusetFiles = {"cpuset.cpus", "cpuset.mems"};

class Lab03LeakCheck : public LabTest {
  protected:
    /// Makes the stray in every cgroup hierarchy, then lets LabTest take its snapshot.
    void SetUp() override {
        if (::geteuid() == 0) {
            for (const auto& mountPoint : cgroupMountPoints()) makeStray(mountPoint);
        }
        LabTest::SetUp();
    }

    /// The leak check first (the stray must not be reported), then the stray goes.
    void TearDown() override {
        LabTest::TearDown();
        for (auto dir = made_.rbegin(); dir != made_.rend(); ++dir) {
            if (::rmdir(dir->c_str()) != 0 && errno != ENOENT) {
                ADD_FAILURE() << "could not remove the stray cgroup " << *dir << ": "
                              << SysError("rmdir", *dir).what();
            }
        }
    }

    /// The stray's directories, as the host sees them.
    std::vector<std::string> strays() const {
        std::vector<std::string> dirs;
        for (const auto& dir : made_) {
            if (dir.size() > 64 && dir.compare(dir.size() - 64, 64, kStrayId) == 0)
                dirs.push_back(dir);
        }
        return dirs;
    }

  private:
    void makeStray(const std::string& mountPoint) {
        std::string dir = mountPoint;
        for (const std::string name : {"mydocker", kStrayId}) {
            const std::string parent = dir;
            dir = joinPath(dir, name);
            if (::mkdir(dir.c_str(), 0755) != 0) {
                if (errno == EEXIST) continue;  // a runtime's own mydocker/: not ours to remove
                throw SysError("mkdir", dir);
            }
            made_.push_back(dir);
            for (const auto& file : kCpusetFiles) {
                const std::string path = joinPath(dir, file);
                const std::string parentFile = joinPath(parent, file);
                if (pathExists(path) && pathExists(parentFile))
                    writeFile(path, readFile(parentFile));
            }
        }
    }

    std::vector<std::string> made_;  // what SetUp created, parents first
};

// A bad input and a normal run, with a stray mydocker/<id> cgroup in every hierarchy from
// before the test: the bad input is rejected with "no new cgroup", the run's cgroup is
// gone after it, the leak check reports nothing, and the stray is still there (the
// runtime removes only its own).
TEST_F(Lab03LeakCheck, ACgroupLeftBeforeTheTestFailsNoCheck) {
    ASSERT_FALSE(strays().empty()) << "expected a stray cgroup to test with";
    expectRejected(runProbe({"--cpus", "-1"}, {"exit", "0"}), "--cpus");

    const RunResult r = runProbe({"--cpus", "0.5", "--pids-limit", "50"}, {"exit", "3"});
    EXPECT_EQ(r.exitCode, 3) << r;
    EXPECT_TRUE(newCgroupDirs().empty())
        << "expected no new cgroup, found " << ::testing::PrintToString(newCgroupDirs());
    for (const auto& dir : strays()) {
        EXPECT_TRUE(isDirectory(dir))
            << "expected the runtime to leave " << dir << " alone: it is not its container's";
    }
}

}  // namespace
}  // namespace mydocker::test
