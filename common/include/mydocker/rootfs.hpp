/// @file
/// @brief Lab 02 contract: a root filesystem of the container's own (`--rootfs DIR`).
///
/// In its new mount namespace the child makes every mount private, bind-mounts DIR
/// onto itself, pivot_root(2)s into it and detaches the host's root, then mounts a
/// fresh /proc, a tmpfs /dev with the usual device nodes, and a read-only /sys.
///
/// The setup is planned, then applied: planRootfs() returns the ordered list of
/// steps as plain data (no system call is made), and applyPlan() carries them out,
/// the only place that calls mount(2), pivot_root(2), umount2(2), mknod(2) and
/// symlink(2). The order of the steps is the lesson.
///
/// Implemented in `labs/02-rootfs/` (student) and `solutions/02-rootfs/`.
/// Man pages: mount_namespaces(7), mount(2), pivot_root(2), umount2(2), mknod(2),
/// symlink(2), proc(5), sysfs(5), tmpfs(5), pts(4).
#pragma once

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

namespace mydocker::rootfs {

/// Checks a `--rootfs` before anything is created: an absolute path naming an
/// existing directory, other than the host's own system (`/`, `/etc`, `/usr`, `/dev`,
/// ... compared by device and inode) and not on a pseudo-filesystem (proc, sysfs,
/// cgroup, devpts, the host's devtmpfs).
/// @throws UsageError naming the path and what is wrong with it
void validateRootfs(const std::string& dir);

/// What one step of the plan does. Each kind is carried out by one system call,
/// two for the kinds that need to chdir(2) around it.
enum class StepKind {
    mount,          ///< mount(2) `source` on `target` with `fstype`, `flags` and `data`
    pivotRoot,      ///< chdir(2) to `target`, then pivot_root(".", "."): `target` becomes `/`
    detachOldRoot,  ///< umount2(".", MNT_DETACH) the old root stacked on `/`, then chdir("/")
    makeDir,        ///< mkdir(2) `target` with `mode`; an existing directory is fine
    makeNode,       ///< mknod(2) the character device `major`:`minor` at `target`, chmod to `mode`
    symlink,        ///< symlink(2): a link at `target` pointing to `source`
    makeFile,       ///< an empty regular file at `target` with `mode` (a file's mount point)
    changeDir,      ///< chdir(2) to `target`: relative paths in the next steps start there
};

/// One step of setting up the container's root, as plain data.
/// Paths are the host's until the pivotRoot step and the container's after it.
struct MountStep {
    StepKind kind = StepKind::mount;  ///< what to do
    std::string target;               ///< the path acted on (mount point, node, link, dir)
    std::string source;               ///< mount(2)'s source, or what a symlink points to
    std::string fstype;               ///< mount(2)'s filesystem type ("proc", "tmpfs"...)
    unsigned long flags = 0;          ///< mount(2)'s MS_* flags
    std::string data;                 ///< mount(2)'s filesystem options ("mode=755")
    mode_t mode = 0;                  ///< permission bits of a makeDir or makeNode
    unsigned major = 0;               ///< device major number of a makeNode
    unsigned minor = 0;               ///< device minor number of a makeNode

    /// mount(2) `source` on `target`: a new filesystem, a bind, or a propagation change.
    static MountStep mount(std::string source, std::string target, std::string fstype,
                           unsigned long flags, std::string data = {}) {
        MountStep step;
        step.kind = StepKind::mount;
        step.source = std::move(source);
        step.target = std::move(target);
        step.fstype = std::move(fstype);
        step.flags = flags;
        step.data = std::move(data);
        return step;
    }
    /// Makes the mount at `newRoot` the root of the mount namespace.
    static MountStep pivotRoot(std::string newRoot) {
        MountStep step;
        step.kind = StepKind::pivotRoot;
        step.target = std::move(newRoot);
        return step;
    }
    /// Detaches the old root left stacked on `/` by pivotRoot.
    static MountStep detachOldRoot() {
        MountStep step;
        step.kind = StepKind::detachOldRoot;
        step.target = "/";
        return step;
    }
    /// Creates the directory `path` (a mount point) unless it exists.
    static MountStep makeDir(std::string path, mode_t mode) {
        MountStep step;
        step.kind = StepKind::makeDir;
        step.target = std::move(path);
        step.mode = mode;
        return step;
    }
    /// Creates the character device `major`:`minor` at `path`, with permissions `mode`.
    static MountStep makeNode(std::string path, unsigned major, unsigned minor, mode_t mode) {
        MountStep step;
        step.kind = StepKind::makeNode;
        step.target = std::move(path);
        step.major = major;
        step.minor = minor;
        step.mode = mode;
        return step;
    }
    /// Creates the symbolic link `path` pointing to `pointsTo`.
    static MountStep symlink(std::string pointsTo, std::string path) {
        MountStep step;
        step.kind = StepKind::symlink;
        step.source = std::move(pointsTo);
        step.target = std::move(path);
        return step;
    }

    /// Creates the empty file `path` (the mount point of a bind-mounted file) unless it exists.
    static MountStep makeFile(std::string path, mode_t mode) {
        MountStep step;
        step.kind = StepKind::makeFile;
        step.target = std::move(path);
        step.mode = mode;
        return step;
    }

    /// Makes `dir` the working directory, so that the next steps may name paths relative
    /// to it (lab 05: overlay's lowerdir= lists layers by short relative names).
    static MountStep changeDir(std::string dir) {
        MountStep step;
        step.kind = StepKind::changeDir;
        step.target = std::move(dir);
        return step;
    }

    /// Steps are equal when every field is (for tests).
    bool operator==(const MountStep&) const = default;
};

/// The whole setup of the container's root `rootfs`, in order: make `/` private,
/// bind `rootfs` onto itself, pivot into it, detach the old root, then /proc, /dev, /sys.
/// Pure: makes no system call, so it can be unit-tested and printed.
/// @param rootfs the container's root directory, an absolute host path
std::vector<MountStep> planRootfs(const std::string& rootfs);

/// A host file or directory bind-mounted into the container (lab 09's volumes; lab 06's
/// generated `/etc/hosts` and `/etc/resolv.conf` are bind mounts of files too).
struct BindMount {
    std::string source;     ///< the host's path, absolute
    std::string target;     ///< where it appears in the container, absolute
    bool readOnly = false;  ///< mounted read-only
    bool isFile = false;    ///< `source` is a file: the mount point is a file, not a directory
    bool copyUp = false;    ///< lab 09: a named volume, filled from the root's `target` if empty

    /// Equal when every field is (for tests).
    bool operator==(const BindMount&) const = default;
};

/// Everything the container's root is made of: the root filesystem, and what later labs
/// mount into it. Lab 02 plans the root from `rootfs` alone (planRootfs()); the given
/// planContainerRoot() adds the rest, so labs 06 and 09 never reopen lab 02's code.
struct RootfsSpec {
    std::string rootfs;            ///< the root directory, an absolute host path
    std::vector<BindMount> binds;  ///< mounted in this order, after the rootfs, before pivot_root
    /// Lab 09's volumes: not steps of the plan, but mounted through fds and resolved
    /// inside the root (volumes::mountVolumes()), after `binds`, before pivot_root.
    std::vector<BindMount> volumes;
    /// How `rootfs` becomes a mount point. Empty: lab 02's bind mount of it onto itself.
    /// Lab 05 mounts an image's layers there instead (overlay::planOverlay()).
    std::vector<MountStep> rootMount;

    /// Equal when every field is (for tests).
    bool operator==(const RootfsSpec&) const = default;
};

/// The whole plan of a container's root from its spec: planRootfs(spec.rootfs), its bind
/// of the rootfs onto itself replaced by `spec.rootMount` if there is one, and the
/// spec's bind mounts inserted just before the pivotRoot step (while both the host's
/// paths and the new root are reachable: `source` on the host, `target` below the rootfs).
/// Given code (not the lesson); pure, like planRootfs().
std::vector<MountStep> planContainerRoot(const RootfsSpec& spec);

/// Carries out `plan` in order, in the calling process's mount namespace.
/// The only function that calls mount(2), pivot_root(2), umount2(2), mknod(2), symlink(2).
/// @throws SysError naming the failed call and its target, with the step as context
void applyPlan(const std::vector<MountStep>& plan);

/// One line saying what `step` does ("mount proc on /proc (nosuid,nodev,noexec)"),
/// for error messages, debug logs and test output.
std::string describe(const MountStep& step);

/// Child side, with `--rootfs`: applyPlan(planRootfs(rootfs)). Afterwards `/` is
/// `rootfs`, the host's root is unreachable, and nothing of it shows on the host.
/// @throws SysError naming the failed step
void enterRootfs(const std::string& rootfs);

}  // namespace mydocker::rootfs
