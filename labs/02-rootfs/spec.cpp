// Lab 02, given: the whole plan of a container's root from its RootfsSpec.
//
// Lab 02 plans a root from a directory alone (planRootfs, plan.cpp). Later labs mount
// more into it: generated /etc/hosts and /etc/resolv.conf (lab 06), volumes (lab 09).
// They describe those mounts in the spec, and this file splices them into lab 02's plan
// at the one place they can go: after the rootfs is a mount point, before pivot_root,
// while the host's path (the source) and the container's (below the rootfs) are both
// reachable. Lab 02's code never changes for them.
#include <sys/mount.h>

#include <algorithm>

#include "mydocker/error.hpp"
#include "mydocker/file.hpp"
#include "mydocker/rootfs.hpp"

namespace mydocker::rootfs {
namespace {

/// Mount points made for binds get the usual modes.
constexpr mode_t kMountPointDirMode = 0755;
constexpr mode_t kMountPointFileMode = 0644;

/// The steps of one bind mount: its mount point, the bind, and for a read-only one the
/// remount that makes it so (a bind ignores MS_RDONLY: it takes a second mount(2)).
std::vector<MountStep> planBind(const std::string& rootfs, const BindMount& bind) {
    const std::string target = joinPath(rootfs, bind.target);
    std::vector<MountStep> steps;
    steps.push_back(bind.isFile ? MountStep::makeFile(target, kMountPointFileMode)
                                : MountStep::makeDir(target, kMountPointDirMode));
    steps.push_back(MountStep::mount(bind.source, target, "", MS_BIND | MS_REC));
    if (bind.readOnly) {
        steps.push_back(MountStep::mount("", target, "", MS_BIND | MS_REMOUNT | MS_RDONLY));
    }
    return steps;
}

/// True for lab 02's step that makes the rootfs a mount point: its bind onto itself.
bool bindsRootfsOntoItself(const MountStep& step, const std::string& rootfs) {
    return step.kind == StepKind::mount && (step.flags & MS_BIND) != 0 && step.source == rootfs &&
           step.target == rootfs;
}

}  // namespace

std::vector<MountStep> planContainerRoot(const RootfsSpec& spec) {
    std::vector<MountStep> plan = planRootfs(spec.rootfs);
    if (!spec.rootMount.empty()) {
        // Lab 05: the rootfs is an overlay of an image's layers, mounted where lab 02 binds.
        const auto bind = std::find_if(plan.begin(), plan.end(), [&](const MountStep& step) {
            return bindsRootfsOntoItself(step, spec.rootfs);
        });
        if (bind == plan.end()) {
            throw Error(
                "cannot mount the image's layers (lab 02's plan has no bind mount of the rootfs "
                "onto itself to replace)");
        }
        const auto at = plan.erase(bind);
        plan.insert(at, spec.rootMount.begin(), spec.rootMount.end());
    }
    std::vector<MountStep> binds;
    for (const BindMount& bind : spec.binds) {
        const auto steps = planBind(spec.rootfs, bind);
        binds.insert(binds.end(), steps.begin(), steps.end());
    }
    const auto pivot = std::find_if(plan.begin(), plan.end(), [](const MountStep& step) {
        return step.kind == StepKind::pivotRoot;
    });
    plan.insert(pivot, binds.begin(), binds.end());
    return plan;
}

}  // namespace mydocker::rootfs
