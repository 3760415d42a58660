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
    todo("TODO (lab 03): create the cgroup directory in each v1 hierarchy (cpuset: copy cpus and mems first)");
}

void V1Cgroup::applyLimits(const ResourceLimits& limits) {
    todo("TODO (lab 03): write the v1 cpu, cpuset and pids limits", limits);
}

void V1Cgroup::attach(pid_t pid) {
    todo("TODO (lab 03): write the pid to cgroup.procs in every hierarchy", pid);
}

Usage V1Cgroup::usage() const {
    todo("TODO (lab 03): read cpuacct.usage and pids.current");
}

void V1Cgroup::killAll() {
    todo("TODO (lab 03): SIGKILL every pid of cgroup.procs");
}

void V1Cgroup::destroy() {
    todo("TODO (lab 03): remove the cgroup directory from every hierarchy");
}

}  // namespace mydocker::cgroups
