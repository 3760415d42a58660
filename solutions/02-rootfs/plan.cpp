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

// The data of the plan: numbers fixed by the kernel and by convention, not the lesson.
// [[maybe_unused]]: the skeleton keeps them before it has the code that reads them.

/// Both tmpfs mounts hold little: /dev only nodes and links, /dev/shm POSIX shared
/// memory. 64 MiB each, as docker gives them.
[[maybe_unused]] constexpr const char* kDevTmpfsOptions = "mode=755,size=65536k";
[[maybe_unused]] constexpr const char* kShmTmpfsOptions = "mode=1777,size=65536k";

/// newinstance: a devpts of the container's own, so its ptys are not the host's.
/// ptmxmode=0666: /dev/pts/ptmx (where /dev/ptmx points) is mode 000 by default,
/// and nobody could open a new pty.
[[maybe_unused]] constexpr const char* kDevptsOptions = "newinstance,ptmxmode=0666,mode=0620";

/// A device node every program expects in /dev. The numbers are fixed by the kernel
/// (Documentation/admin-guide/devices.txt): memory devices are major 1, /dev/tty is 5:0.
struct DeviceNode {
    const char* path;
    unsigned major;
    unsigned minor;
};
[[maybe_unused]] constexpr DeviceNode kDeviceNodes[] = {
    {"/dev/null", 1, 3},   {"/dev/zero", 1, 5},    {"/dev/full", 1, 7},
    {"/dev/random", 1, 8}, {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0},
};
/// Everyone reads and writes these devices, as on any Linux system.
[[maybe_unused]] constexpr mode_t kDeviceMode = 0666;

/// The links programs expect in /dev. They point into /proc/self, resolved by
/// whichever process opens them, so each sees its own descriptors.
/// (docker also links /dev/core to /proc/kcore; nothing needs it, so it is left out.)
struct DevLink {
    const char* pointsTo;
    const char* path;
};
[[maybe_unused]] constexpr DevLink kDevLinks[] = {
    {"/proc/self/fd", "/dev/fd"},
    {"/proc/self/fd/0", "/dev/stdin"},
    {"/proc/self/fd/1", "/dev/stdout"},
    {"/proc/self/fd/2", "/dev/stderr"},
    // The pty multiplexer of the container's own devpts, not the host's /dev/ptmx.
    {"pts/ptmx", "/dev/ptmx"},
};

/// Mount points are made with the usual modes, in case the rootfs lacks them.
[[maybe_unused]] constexpr mode_t kProcDirMode = 0555;
[[maybe_unused]] constexpr mode_t kSysDirMode = 0555;
[[maybe_unused]] constexpr mode_t kDevDirMode = 0755;

/// Step 1: stop mount events from propagating between the container and the host.
std::vector<MountStep> planMakePrivate() {
    // BEGIN SOLUTION: todo("TODO (lab 02): make / recursively private (the first step)");
    // The new mount namespace starts as a copy of the host's, propagation included:
    // on a systemd host "/" is shared, so every mount made below would also appear on
    // the host, and pivot_root(2) refuses to move a shared mount (EINVAL).
    // MS_REC: every mount below "/" too. Nothing else may come before this.
    return {MountStep::mount("", "/", "", MS_REC | MS_PRIVATE)};
    // END SOLUTION
}

/// Step 2: turn the rootfs directory into a mount point.
std::vector<MountStep> planBindRootfs(const std::string& rootfs) {
    // BEGIN SOLUTION: todo("TODO (lab 02): bind-mount the rootfs onto itself", rootfs);
    // pivot_root(2) only moves mount points, and the rootfs is usually a plain
    // directory. Binding it onto itself makes it one; MS_REC brings along anything
    // already mounted below it.
    return {MountStep::mount(rootfs, rootfs, "", MS_BIND | MS_REC)};
    // END SOLUTION
}

/// Step 3: make the rootfs "/" and let go of the host's root.
std::vector<MountStep> planPivotRoot(const std::string& rootfs) {
    // BEGIN SOLUTION: todo("TODO (lab 02): pivot_root(2) into the rootfs, then detach the old root", rootfs);
    // Unlike chroot(2), pivot_root(2) changes the root of the whole mount namespace:
    // once the old root is detached, no path, "..", or fd trick can climb back to it.
    return {MountStep::pivotRoot(rootfs), MountStep::detachOldRoot()};
    // END SOLUTION
}

/// Step 4: a /proc that shows the container's PID namespace.
std::vector<MountStep> planProc() {
    // BEGIN SOLUTION: todo("TODO (lab 02): mount a new /proc (nosuid, nodev, noexec)");
    // Mounted from inside the new PID namespace, procfs lists only its processes.
    // Nothing in /proc is a program or a device: forbid both.
    return {
        MountStep::makeDir("/proc", kProcDirMode),
        MountStep::mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC),
    };
    // END SOLUTION
}

/// Step 5: a /dev with only the devices a container needs.
std::vector<MountStep> planDev() {
    // BEGIN SOLUTION: todo("TODO (lab 02): a tmpfs /dev with null, zero, full, random, urandom, tty, pts, shm and the links");
    // The device numbers, modes, links and mount options are the tables above.
    std::vector<MountStep> steps = {
        MountStep::makeDir("/dev", kDevDirMode),
        // A fresh tmpfs, never the host's /dev (every disk would be there). Not nodev:
        // the nodes made in it must work. strictatime, as docker: some tools watch atimes.
        MountStep::mount("tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_STRICTATIME, kDevTmpfsOptions),
    };
    // mknod(2) rather than bind-mounting the host's nodes: real root may create
    // device nodes. (In a user namespace mknod fails with EPERM; rootless runtimes
    // bind-mount /dev/null and friends from the host instead.)
    for (const DeviceNode& node : kDeviceNodes) {
        steps.push_back(MountStep::makeNode(node.path, node.major, node.minor, kDeviceMode));
    }
    // /dev/pts and /dev/shm are filesystems of their own, mounted on directories of the
    // new tmpfs; the links come last (/dev/ptmx points into the devpts).
    steps.push_back(MountStep::makeDir("/dev/pts", kDevDirMode));
    steps.push_back(
        MountStep::mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, kDevptsOptions));
    steps.push_back(MountStep::makeDir("/dev/shm", kDevDirMode));
    steps.push_back(MountStep::mount("shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                                     kShmTmpfsOptions));
    for (const DevLink& link : kDevLinks) {
        steps.push_back(MountStep::symlink(link.pointsTo, link.path));
    }
    return steps;
    // END SOLUTION
}

/// Step 6: /sys, read-only.
std::vector<MountStep> planSys() {
    // BEGIN SOLUTION: todo("TODO (lab 02): mount /sys read-only");
    // sysfs is the host's devices and kernel knobs: the container may look, but
    // must not change them. A new sysfs mount takes MS_RDONLY directly.
    return {
        MountStep::makeDir("/sys", kSysDirMode),
        MountStep::mount("sysfs", "/sys", "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC),
    };
    // END SOLUTION
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
