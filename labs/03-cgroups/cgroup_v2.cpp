// Lab 03: the cgroup v2 implementation (unified hosts): one directory, below ancestors
// that hand their controllers down through cgroup.subtree_control.
#include <algorithm>

#include <fmt/format.h>

#include "mydocker/cgroups.hpp"
#include "mydocker/error.hpp"
#include "mydocker/file.hpp"
#include "mydocker/scope_guard.hpp"

namespace mydocker::cgroups {
namespace {

bool contains(const std::vector<std::string>& list, std::string_view item) {
    return std::find(list.begin(), list.end(), item) != list.end();
}

/// The controllers listed in a space-separated cgroup file (`cgroup.controllers`).
std::vector<std::string> controllersIn(const std::string& file) {
    return splitList(readLine(file), ' ');
}

}  // namespace

V2Cgroup::V2Cgroup(std::string root, std::string path)
    : root_(std::move(root)), path_(std::move(path)) {}

bool V2Cgroup::hasController(std::string_view controller) const {
    // A v2 cgroup has the controllers its parent enabled for it, listed in its own
    // cgroup.controllers (which exists only once the cgroup does).
    const std::string file = joinPath(joinPath(root_, path_), "cgroup.controllers");
    return pathExists(file) && contains(controllersIn(file), controller);
}

std::string V2Cgroup::directory(std::string_view controller) const {
    if (!hasController(controller)) {
        throw Error(fmt::format("no {} cgroup controller for {} (not enabled by its parent, "
                                "or not offered by this host)",
                                controller, joinPath(root_, path_)));
    }
    return joinPath(root_, path_);
}

void V2Cgroup::create() {
    todo("TODO (lab 03): create the v2 cgroup, enabling the controllers in each ancestor's cgroup.subtree_control");
}

void V2Cgroup::applyLimits(const ResourceLimits& limits) {
    todo("TODO (lab 03): write cpu.max, cpu.weight, cpuset.cpus and pids.max", limits);
}

void V2Cgroup::attach(pid_t pid) {
    todo("TODO (lab 03): write the pid to the cgroup's cgroup.procs", pid);
}

Usage V2Cgroup::usage() const {
    todo("TODO (lab 03): read usage_usec of cpu.stat and pids.current");
}

void V2Cgroup::killAll() {
    todo("TODO (lab 03): kill every process: cgroup.kill, or each pid of cgroup.procs");
}

void V2Cgroup::destroy() {
    todo("TODO (lab 03): remove the v2 cgroup directory, and mydocker/ if unused");
}

}  // namespace mydocker::cgroups
