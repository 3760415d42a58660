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
    // Hints:
    // - A failure half-way removes what this call made, in reverse order: a failed
    //   create() leaves nothing behind.
    // - Top-down: a controller reaches mydocker/<id> only if the root enabled it for
    //   mydocker/ and mydocker/ enabled it for its children. The "no internal processes"
    //   rule forbids processes in a cgroup that enables controllers for its children:
    //   mydocker/ stays empty, only the leaves hold processes (the root is exempt).
    // - One write of "+cpu +pids ..." to the parent's cgroup.subtree_control, naming
    //   only controllers it has (its cgroup.controllers): one it lacks fails the whole
    //   write (ENOENT), one already enabled is not asked for again.
    todo("TODO (lab 03): create the v2 cgroup, enabling the controllers in each ancestor's cgroup.subtree_control");
}

void V2Cgroup::applyLimits(const ResourceLimits& limits) {
    // Hints:
    // - v2 puts quota and period in one file: "50000 100000" is half a CPU.
    // - v2 has weights 1..10000 (default 100) where v1 had shares 2..262144 (1024).
    // - Unlike v1, an empty cpuset.cpus or cpuset.mems means "the parent's": only the
    //   CPUs asked for need writing.
    todo("TODO (lab 03): write cpu.max, cpu.weight, cpuset.cpus and pids.max", limits);
}

void V2Cgroup::attach(pid_t pid) {
    // Hint: v2 has one hierarchy: one write moves the process (all its threads) under every
    // controller at once.
    todo("TODO (lab 03): write the pid to the cgroup's cgroup.procs", pid);
}

Usage V2Cgroup::usage() const {
    // Hint: cpu.stat is a core file in v2: it has usage_usec even without the cpu controller.
    todo("TODO (lab 03): read usage_usec of cpu.stat and pids.current");
}

void V2Cgroup::killAll() {
    // Hint: cgroup.kill (Linux 5.14+): one write kills the whole cgroup at once, so nothing can
    // fork away meanwhile. Older kernels lack the file: signal each process listed.
    todo("TODO (lab 03): kill every process: cgroup.kill, or each pid of cgroup.procs");
}

void V2Cgroup::destroy() {
    // Hints:
    // - A cgroup with processes in it cannot be removed (EBUSY): kill what is left first.
    // - mydocker/ goes too when this was its last container: nothing is left behind.
    todo("TODO (lab 03): remove the v2 cgroup directory, and mydocker/ if unused");
}

}  // namespace mydocker::cgroups
