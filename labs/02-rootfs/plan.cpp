// Lab 02: the plan of the container's root, as plain data.
//
// No system call in this file: planRootfs() only says what to do and in which
// order; applyPlan() (apply.cpp) does it. The order is the lesson:
//
//   1. make "/" recursively private     nothing we mount may reach the host
//   2. bind the rootfs onto itself      pivot_root(2) needs a mount point
//   3. pivot_root, detach the old root  the host's tree becomes unreachable
//   4. /proc                            this PID namespace's processes
//   5. /dev                             a tmpfs with only the devices listed here
//   6. /sys                             read-only
#include <sys/mount.h>

#include "mydocker/error.hpp"
#include "mydocker/rootfs.hpp"

namespace mydocker::rootfs {
namespace {

/// Step 1: stop mount events from propagating between the container and the host.
std::vector<MountStep> planMakePrivate() {
    todo("TODO (lab 02): make / recursively private (the first step)");
}

/// Step 2: turn the rootfs directory into a mount point.
std::vector<MountStep> planBindRootfs(const std::string& rootfs) {
    todo("TODO (lab 02): bind-mount the rootfs onto itself", rootfs);
}

/// Step 3: make the rootfs "/" and let go of the host's root.
std::vector<MountStep> planPivotRoot(const std::string& rootfs) {
    todo("TODO (lab 02): pivot_root(2) into the rootfs, then detach the old root", rootfs);
}

/// Step 4: a /proc that shows the container's PID namespace.
std::vector<MountStep> planProc() {
    todo("TODO (lab 02): mount a new /proc (nosuid, nodev, noexec)");
}

/// Step 5: a /dev with only the devices a container needs.
std::vector<MountStep> planDev() {
    todo("TODO (lab 02): a tmpfs /dev with null, zero, full, random, urandom, tty, pts, shm and the links");
}

/// Step 6: /sys, read-only.
std::vector<MountStep> planSys() {
    todo("TODO (lab 02): mount /sys read-only");
}

}  // namespace

std::vector<MountStep> planRootfs(const std::string& rootfs) {
    std::vector<MountStep> plan;
    for (const auto& part : {planMakePrivate(), planBindRootfs(rootfs), planPivotRoot(rootfs),
                             planProc(), planDev(), planSys()}) {
        plan.insert(plan.end(), part.begin(), part.end());
    }
    return plan;
}

}  // namespace mydocker::rootfs
