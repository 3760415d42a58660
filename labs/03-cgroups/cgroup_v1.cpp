// Lab 03: the cgroup v1 implementation (legacy and hybrid hosts): one directory per
// hierarchy, found through the mount table.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include <fmt/format.h>

#include "mydocker/cgroups.hpp"
#include "mydocker/error.hpp"
#include "mydocker/file.hpp"
#include "mydocker/scope_guard.hpp"

namespace mydocker::cgroups {
namespace {

bool isV1Controller(std::string_view name) {
    return std::find(kV1Controllers.begin(), kV1Controllers.end(), name) != kV1Controllers.end();
}

}  // namespace

ControllerMounts parseV1Mounts(std::string_view mountinfo) {
    // Hints:
    // - A mountinfo line (proc(5)):
    //     36 35 0:30 / /sys/fs/cgroup/cpu rw,relatime shared:9 - cgroup cgroup rw,cpu
    //     id parent dev root MOUNTPOINT options [optional...] - FSTYPE source SUPEROPTIONS
    //   The optional fields vary in number: split at the " - " separator first.
    // - The controllers of a v1 hierarchy are its super options: "rw,cpu,cpuacct".
    // - mountinfo escapes a space in a path as \040 (octal): undo that.
    todo("TODO (lab 03): find each v1 controller's mount point in mountinfo", mountinfo);
}

ControllerMounts hostV1Mounts() { return parseV1Mounts(readFile("/proc/self/mountinfo")); }

V1Cgroup::V1Cgroup(ControllerMounts mounts, std::string path) : path_(std::move(path)) {
    for (auto& [controller, mountPoint] : mounts) {
        if (isV1Controller(controller)) mounts_.emplace(controller, std::move(mountPoint));
    }
}

std::vector<std::string> V1Cgroup::hierarchies() const {
    std::vector<std::string> unique;
    for (const auto& [controller, mountPoint] : mounts_) {
        if (std::find(unique.begin(), unique.end(), mountPoint) == unique.end()) {
            unique.push_back(mountPoint);
        }
    }
    return unique;
}

bool V1Cgroup::hasController(std::string_view controller) const {
    return mounts_.find(controller) != mounts_.end();
}

std::string V1Cgroup::directory(std::string_view controller) const {
    const auto found = mounts_.find(controller);
    if (found == mounts_.end()) {
        throw Error(fmt::format("no {} cgroup controller on this host (no v1 hierarchy has it)",
                                controller));
    }
    return joinPath(found->second, path_);
}

void V1Cgroup::create() {
    // Hints:
    // - Without a single hierarchy the container would run unconfined: say so instead.
    // - A failure half-way (the third hierarchy, say) removes what this call made, in
    //   reverse order: a failed create() leaves nothing behind.
    // - One level at a time: mydocker/, then mydocker/<id>.
    // - A new cpuset cgroup has an empty cpuset.cpus and cpuset.mems, and no task
    //   can join it (ENOSPC) until both are set: copy its parent's.
    todo("TODO (lab 03): create the cgroup directory in each v1 hierarchy (cpuset: copy cpus and mems first)");
}

void V1Cgroup::applyLimits(const ResourceLimits& limits) {
    // Hints:
    // - --cpus is CFS bandwidth: at most `quota` us of CPU time every `period` us, summed over
    //   all CPUs. 0.5 CPU = 50 ms per 100 ms. Period first: the quota is read against it.
    // - --cpu-shares is a relative weight: it matters only when CPUs are contended.
    // - cpuset.mems was set in create(): it is needed before any task joins.
    // - pids.max counts tasks (threads too): fork(2) and clone(2) fail with EAGAIN past it.
    todo("TODO (lab 03): write the v1 cpu, cpuset and pids limits", limits);
}

void V1Cgroup::attach(pid_t pid) {
    // Hint: Each hierarchy is independent in v1: the process must join the cgroup in each one.
    // cgroup.procs moves the whole process (all its threads); `tasks` would move one thread.
    todo("TODO (lab 03): write the pid to cgroup.procs in every hierarchy", pid);
}

Usage V1Cgroup::usage() const {
    // Hint: v1 keeps CPU time in its own controller, cpuacct, in nanoseconds.
    todo("TODO (lab 03): read cpuacct.usage and pids.current");
}

void V1Cgroup::killAll() {
    // Hint: v1 has no cgroup.kill: signal each process listed. A process may be in only some
    // hierarchies (an attach that failed half-way): look in each.
    todo("TODO (lab 03): SIGKILL every pid of cgroup.procs");
}

void V1Cgroup::destroy() {
    // Hints:
    // - A cgroup with processes in it cannot be removed (EBUSY): kill what is left first.
    // - mydocker/ goes too when this was its last container: nothing is left behind.
    todo("TODO (lab 03): remove the cgroup directory from every hierarchy");
}

}  // namespace mydocker::cgroups
