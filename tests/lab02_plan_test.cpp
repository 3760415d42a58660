// Lab 02's unit tests: the mount plan, as plain data, without running anything.
//
// planRootfs() makes no system call, so its order can be checked directly: "/" private
// first, then the bind, then pivot_root and the detach of the old root, and only then
// /proc, /dev and /sys, each with the flags the handout asks for. The container tests
// (lab02_rootfs_test.cpp) check that the applied plan does what it says.
#include <sys/mount.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "mydocker/error.hpp"
#include "mydocker/rootfs.hpp"
#include "support/devices.hpp"
#include "support/points.hpp"

namespace mydocker::test {
namespace {

using rootfs::MountStep;
using rootfs::StepKind;

/// A rootfs path for the plan: it need not exist, the plan never touches it.
const std::string kRootfs = "/var/tmp/lab02-plan-test/rootfs";

/// The flags the handout asks for, on top of which more are allowed.
constexpr unsigned long kProcFlags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
constexpr unsigned long kSysFlags = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;

/// The plan, or a test failure naming the exception (the skeleton's TODO, say).
std::optional<std::vector<MountStep>> planOrFail() {
    try {
        return rootfs::planRootfs(kRootfs);
    } catch (const std::exception& e) {
        ADD_FAILURE() << "expected planRootfs(\"" << kRootfs << "\") to return the plan, it threw: "
                      << e.what();
    }
    return std::nullopt;
}

/// The plan, one step per line, numbered, for failure messages.
std::string render(const std::vector<MountStep>& plan) {
    std::string text = "\n  the plan:";
    for (std::size_t i = 0; i < plan.size(); ++i) {
        text += "\n    " + std::to_string(i) + ". " + rootfs::describe(plan[i]);
    }
    return text + "\n";
}

/// The index of the first step from `from` on that matches, if any.
std::optional<std::size_t> findStep(const std::vector<MountStep>& plan,
                                    const std::function<bool(const MountStep&)>& match,
                                    std::size_t from = 0) {
    for (std::size_t i = from; i < plan.size(); ++i) {
        if (match(plan[i])) return i;
    }
    return std::nullopt;
}

/// Matches a mount(2) of a new filesystem of type `fstype` at `target`.
std::function<bool(const MountStep&)> mountOf(const std::string& fstype, const std::string& target) {
    return [=](const MountStep& s) {
        return s.kind == StepKind::mount && s.fstype == fstype && s.target == target;
    };
}

bool hasFlags(const MountStep& step, unsigned long flags) { return (step.flags & flags) == flags; }

// The order that keeps the host safe: "/" recursively private before anything else,
// the rootfs bound onto itself, then pivot_root into it and the old root detached.
GRADED_TEST(Lab02RootfsPlan, PlanMakesRootPrivateThenBindsThenPivots, 4) {
    const auto plan = planOrFail();
    ASSERT_TRUE(plan.has_value());
    ASSERT_FALSE(plan->empty()) << "expected a plan with steps, found none";
    const std::string shown = render(*plan);

    const MountStep& first = plan->front();
    EXPECT_TRUE(first.kind == StepKind::mount && first.target == "/" &&
                hasFlags(first, MS_REC | MS_PRIVATE))
        << "expected the first step to make / recursively private (MS_REC | MS_PRIVATE)" << shown;

    const auto bind = findStep(*plan, [](const MountStep& s) {
        return s.kind == StepKind::mount && hasFlags(s, MS_BIND) && s.source == kRootfs &&
               s.target == kRootfs;
    });
    const auto pivot = findStep(*plan, [](const MountStep& s) {
        return s.kind == StepKind::pivotRoot && s.target == kRootfs;
    });
    ASSERT_TRUE(bind.has_value()) << "expected a bind mount (MS_BIND) of " << kRootfs
                                  << " onto itself" << shown;
    ASSERT_TRUE(pivot.has_value()) << "expected a pivotRoot step into " << kRootfs << shown;
    EXPECT_LT(*bind, *pivot) << "expected the bind mount before pivot_root (it needs a mount point)"
                             << shown;
    ASSERT_LT(*pivot + 1, plan->size()) << "expected steps after pivot_root" << shown;
    EXPECT_EQ((*plan)[*pivot + 1].kind, StepKind::detachOldRoot)
        << "expected the old root to be detached right after pivot_root" << shown;

    // Before the pivot the paths are the host's: nothing may be made anywhere but in the
    // rootfs (or on "/" itself, the propagation change).
    for (std::size_t i = 0; i < *pivot; ++i) {
        const std::string& target = (*plan)[i].target;
        EXPECT_TRUE(target == "/" || target.rfind(kRootfs, 0) == 0)
            << "expected step " << i << " (before the pivot) to act on / or the rootfs" << shown;
    }
}

// After the pivot: a new /proc (nosuid, nodev, noexec), a tmpfs /dev with its nodes,
// devpts and shm and links, and a read-only /sys, all at the container's own paths.
GRADED_TEST(Lab02RootfsPlan, PlanMountsProcDevSysInsideTheNewRoot, 4) {
    const auto plan = planOrFail();
    ASSERT_TRUE(plan.has_value());
    const std::string shown = render(*plan);
    const auto detach = findStep(*plan, [](const MountStep& s) {
        return s.kind == StepKind::detachOldRoot;
    });
    ASSERT_TRUE(detach.has_value()) << "expected a detachOldRoot step" << shown;
    const std::size_t after = *detach + 1;

    const auto proc = findStep(*plan, mountOf("proc", "/proc"), after);
    ASSERT_TRUE(proc.has_value()) << "expected a proc mount at /proc after the pivot" << shown;
    EXPECT_TRUE(hasFlags((*plan)[*proc], kProcFlags)) << "expected /proc nosuid,nodev,noexec" << shown;

    const auto dev = findStep(*plan, mountOf("tmpfs", "/dev"), after);
    ASSERT_TRUE(dev.has_value()) << "expected a tmpfs mount at /dev after the pivot" << shown;
    EXPECT_TRUE(hasFlags((*plan)[*dev], MS_NOSUID)) << "expected /dev nosuid" << shown;
    EXPECT_FALSE(hasFlags((*plan)[*dev], MS_NODEV)) << "expected /dev without nodev" << shown;

    for (const Device& device : kDevices) {
        const auto node = findStep(*plan, [&](const MountStep& s) {
            return s.kind == StepKind::makeNode && s.target == device.path;
        }, *dev + 1);
        ASSERT_TRUE(node.has_value())
            << "expected a makeNode step for " << device.path << " after the /dev mount" << shown;
        const MountStep& step = (*plan)[*node];
        EXPECT_EQ(step.major, device.major) << device.path << shown;
        EXPECT_EQ(step.minor, device.minor) << device.path << shown;
        EXPECT_EQ(step.mode, 0666u) << device.path << " should be rw for everyone" << shown;
    }

    const auto pts = findStep(*plan, mountOf("devpts", "/dev/pts"), *dev + 1);
    ASSERT_TRUE(pts.has_value()) << "expected a devpts mount at /dev/pts after /dev" << shown;
    EXPECT_NE((*plan)[*pts].data.find("newinstance"), std::string::npos) << shown;
    EXPECT_NE((*plan)[*pts].data.find("ptmxmode=0666"), std::string::npos) << shown;
    EXPECT_TRUE(findStep(*plan, mountOf("tmpfs", "/dev/shm"), *dev + 1).has_value())
        << "expected a tmpfs mount at /dev/shm after /dev" << shown;
    const auto ptmx = findStep(*plan, [](const MountStep& s) {
        return s.kind == StepKind::symlink && s.target == "/dev/ptmx" && s.source == "pts/ptmx";
    }, *dev + 1);
    EXPECT_TRUE(ptmx.has_value()) << "expected the link /dev/ptmx -> pts/ptmx" << shown;

    const auto sys = findStep(*plan, mountOf("sysfs", "/sys"), after);
    ASSERT_TRUE(sys.has_value()) << "expected a sysfs mount at /sys after the pivot" << shown;
    EXPECT_TRUE(hasFlags((*plan)[*sys], kSysFlags)) << "expected /sys ro,nosuid,nodev,noexec" << shown;

    for (std::size_t i = after; i < plan->size(); ++i) {
        EXPECT_EQ((*plan)[i].target.rfind(kRootfs, 0), std::string::npos)
            << "expected step " << i << " (after the pivot) to use the container's paths" << shown;
    }
}

// The plan is data: the same rootfs gives the same plan, and planning makes no system
// call (a rootfs that does not exist plans fine). No points: the skeleton's TODO fails it
// anyway, and a student's plan may differ in details.
TEST(Lab02RootfsPlan, PlanIsPureData) {
    try {
        EXPECT_EQ(rootfs::planRootfs(kRootfs), rootfs::planRootfs(kRootfs));
        EXPECT_NO_THROW(rootfs::planRootfs("/nonexistent/lab02/rootfs"));
    } catch (const TodoError& e) {
        GTEST_SKIP() << "not written yet: " << e.what();
    }
}

}  // namespace
}  // namespace mydocker::test
