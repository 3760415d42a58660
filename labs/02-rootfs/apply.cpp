// Lab 02: carry out the plan of the container's root (plan.cpp), step by step.
//
// applyPlan() is the only place that calls mount(2), pivot_root(2), umount2(2),
// mknod(2) and symlink(2). Each call is checked, and a failure names the call, its
// target and the step it belonged to:
//   lab02: error: preparing the root filesystem: mount proc on /proc (nosuid,nodev,noexec):
//   mount(/proc): Operation not permitted (EPERM)
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "mydocker/error.hpp"
#include "mydocker/log.hpp"
#include "mydocker/rootfs.hpp"
#include "mydocker/unique_fd.hpp"

namespace mydocker::rootfs {
namespace {

/// StepKind::mount: one mount(2) with the step's fields (an empty string is NULL).
void mountStep(const MountStep& step) {
    // Hint: A field the step leaves empty is NULL for mount(2), not "": a bind has no type,
    // making "/" private no source.
    todo("TODO (lab 02): mount(2) the step's source on its target (type, flags, data)", step);
}

/// StepKind::pivotRoot: the mount at `step.target` becomes "/" of this mount namespace.
void pivotRoot(const MountStep& step) {
    // Hint: pivot_root(".", ".") (pivot_root(2), NOTES): the new root becomes "/" and the old
    // root is stacked on top of it, so no directory for it has to be made in (and
    // removed from) the rootfs. glibc has no wrapper for this call.
    todo("TODO (lab 02): chdir(2) into the new root, then pivot_root(\".\", \".\")", step);
}

/// StepKind::detachOldRoot: the host's root, left stacked on "/" by pivotRoot, goes away.
void detachOldRoot(const MountStep& step) {
    // Hints:
    // - "." is the top of the stack on "/": the old root. It has the host's /proc, /sys,
    //   /dev... mounted below it, which a plain umount refuses (EBUSY); MNT_DETACH takes
    //   the whole tree out of this namespace at once.
    // - Our working directory may still be in the detached tree: start from the new "/".
    todo("TODO (lab 02): umount2(2) the old root with MNT_DETACH, then chdir(2) to /", step);
}

/// StepKind::makeDir: a mount point, unless it exists.
void makeDir(const MountStep& step) {
    // A mount point the rootfs already has is fine; anything else in its way is an error
    // the mount(2) on it will report.
    if (::mkdir(step.target.c_str(), step.mode) != 0 && errno != EEXIST) {
        throw SysError("mkdir", step.target);
    }
}

/// StepKind::makeNode: a character device with exactly the step's mode.
void makeNode(const MountStep& step) {
    // Hints:
    // - mknod(2) takes the file type (S_IFCHR) in its mode, and the device's major and
    //   minor numbers as one dev_t (makedev(3)).
    // - mknod(2) applies the umask (usually 022): 0666 would become 0644. Set it exactly.
    todo("TODO (lab 02): mknod(2) the character device, then chmod(2) it to the step's mode", step);
}

/// StepKind::symlink: `step.target` pointing to `step.source`.
void makeSymlink(const MountStep& step) {
    if (::symlink(step.source.c_str(), step.target.c_str()) != 0) {
        throw SysError("symlink", step.target);
    }
}

/// StepKind::makeFile: an empty file to bind-mount a file on, unless one exists.
void makeFile(const MountStep& step) {
    UniqueFd fd(::open(step.target.c_str(), O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, step.mode));
    if (!fd) throw SysError("open", step.target);
}

/// StepKind::changeDir: where the relative paths of the next steps start.
void changeDir(const MountStep& step) {
    if (::chdir(step.target.c_str()) != 0) throw SysError("chdir", step.target);
}

/// Carries out one step: the system calls of its kind.
void applyStep(const MountStep& step) {
    switch (step.kind) {
        case StepKind::mount: return mountStep(step);
        case StepKind::pivotRoot: return pivotRoot(step);
        case StepKind::detachOldRoot: return detachOldRoot(step);
        case StepKind::makeDir: return makeDir(step);
        case StepKind::makeNode: return makeNode(step);
        case StepKind::symlink: return makeSymlink(step);
        case StepKind::makeFile: return makeFile(step);
        case StepKind::changeDir: return changeDir(step);
    }
    throw Error(fmt::format("unknown step kind {}", static_cast<int>(step.kind)));
}

/// The MS_* flags a plan uses, by the names mount(8) and mountinfo show.
std::string flagNames(unsigned long flags) {
    static constexpr struct {
        unsigned long flag;
        const char* name;
    } kNames[] = {
        {MS_RDONLY, "ro"},       {MS_NOSUID, "nosuid"}, {MS_NODEV, "nodev"},
        {MS_NOEXEC, "noexec"},   {MS_STRICTATIME, "strictatime"},
    };
    std::string names;
    for (const auto& [flag, name] : kNames) {
        if ((flags & flag) != 0) names += names.empty() ? name : fmt::format(",{}", name);
    }
    return names;
}

}  // namespace

std::string describe(const MountStep& step) {
    switch (step.kind) {
        case StepKind::mount: {
            const char* recursive = (step.flags & MS_REC) != 0 ? "recursively " : "";
            if ((step.flags & MS_PRIVATE) != 0) {
                return fmt::format("make {} {}private", step.target, recursive);
            }
            if ((step.flags & MS_BIND) != 0) {
                return fmt::format("{}bind-mount {} on {}", recursive, step.source, step.target);
            }
            std::string options = flagNames(step.flags);
            if (!step.data.empty()) options += options.empty() ? step.data : "," + step.data;
            return fmt::format("mount {} on {}{}", step.fstype, step.target,
                               options.empty() ? "" : " (" + options + ")");
        }
        case StepKind::pivotRoot: return fmt::format("pivot_root into {}", step.target);
        case StepKind::detachOldRoot: return "detach the old root";
        case StepKind::makeDir: return fmt::format("create directory {}", step.target);
        case StepKind::makeNode:
            return fmt::format("create device {} ({}:{}, mode {:04o})", step.target, step.major,
                               step.minor, step.mode);
        case StepKind::symlink: return fmt::format("link {} -> {}", step.target, step.source);
        case StepKind::makeFile: return fmt::format("create file {}", step.target);
        case StepKind::changeDir: return fmt::format("change directory to {}", step.target);
    }
    return "unknown step";
}

void applyPlan(const std::vector<MountStep>& plan) {
    for (const MountStep& step : plan) {
        const std::string what = describe(step);
        log::debug("rootfs: {}", what);
        withContext(what, [&] { applyStep(step); });
    }
}

void enterRootfs(const std::string& rootfs) { applyPlan(planRootfs(rootfs)); }

}  // namespace mydocker::rootfs
