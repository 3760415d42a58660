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

// BEGIN SOLUTION
namespace {

/// mountinfo(5) escapes a space, tab, newline or backslash in a path as \ooo (octal).
std::string unescapeMountPath(std::string_view escaped) {
    constexpr std::size_t kOctalDigits = 3;
    constexpr int kOctal = 8;
    std::string path;
    for (std::size_t i = 0; i < escaped.size(); ++i) {
        if (escaped[i] == '\\' && i + kOctalDigits < escaped.size()) {
            path += static_cast<char>(std::stoi(std::string(escaped.substr(i + 1, kOctalDigits)),
                                                nullptr, kOctal));
            i += kOctalDigits;
        } else {
            path += escaped[i];
        }
    }
    return path;
}

}  // namespace
// END SOLUTION

ControllerMounts parseV1Mounts(std::string_view mountinfo) {
    // BEGIN SOLUTION: todo("TODO (lab 03): find each v1 controller's mount point in mountinfo", mountinfo);
    // A mountinfo line (proc(5)):
    //   36 35 0:30 / /sys/fs/cgroup/cpu rw,relatime shared:9 - cgroup cgroup rw,cpu
    //   id parent dev root MOUNTPOINT options [optional...] - FSTYPE source SUPEROPTIONS
    // The optional fields vary in number: split at the " - " separator first.
    ControllerMounts mounts;
    for (const std::string& line : splitList(mountinfo, '\n')) {
        const std::size_t dash = line.find(" - ");
        if (dash == std::string::npos) continue;
        const auto before = splitList(line.substr(0, dash), ' ');
        const auto after = splitList(line.substr(dash + 3), ' ');
        constexpr std::size_t kMountPointField = 4;
        if (before.size() <= kMountPointField || after.size() < 3 || after[0] != "cgroup") continue;
        // The controllers of a v1 hierarchy are its super options: "rw,cpu,cpuacct".
        for (const std::string& option : splitList(after[2], ',')) {
            // mountinfo escapes a space in a path as \040 (octal): undo that.
            if (isV1Controller(option)) {
                mounts.emplace(option, unescapeMountPath(before[kMountPointField]));
            }
        }
    }
    return mounts;
    // END SOLUTION
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

// BEGIN SOLUTION
namespace {

/// The v1 cpuset files a new cgroup gets empty, and must have before any task joins.
constexpr std::array<const char*, 2> kCpusetFiles = {"cpuset.cpus", "cpuset.mems"};

/// A new v1 cpuset cgroup starts with empty `cpuset.cpus` and `cpuset.mems`, and the
/// kernel refuses to attach a task to it (ENOSPC) until both are set: give it its
/// parent's. Called top-down, so a new `mydocker/` is filled before the container's.
void inheritCpuset(const std::string& parent, const std::string& dir) {
    for (const char* file : kCpusetFiles) {
        const std::string path = joinPath(dir, file);
        if (!readLine(path).empty()) continue;  // set already (an existing mydocker/)
        writeFile(path, readLine(joinPath(parent, file)));
    }
}

}  // namespace
// END SOLUTION

void V1Cgroup::create() {
    // BEGIN SOLUTION: todo("TODO (lab 03): create the cgroup directory in each v1 hierarchy (cpuset: copy cpus and mems first)");
    // Without a single hierarchy the container would run unconfined: say so instead.
    if (mounts_.empty()) throw Error("no cgroup v1 controller is mounted (see /proc/self/mountinfo)");
    // A failure half-way (the third hierarchy, say) removes what this call made, in
    // reverse order: a failed create() leaves nothing behind.
    std::vector<std::string> made;
    ScopeGuard removeMade([&] {
        for (auto it = made.rbegin(); it != made.rend(); ++it) removeIfUnused(*it);
    });
    const auto cpuset = mounts_.find("cpuset");
    for (const std::string& hierarchy : hierarchies()) {
        const bool isCpuset = cpuset != mounts_.end() && cpuset->second == hierarchy;
        // One level at a time: mydocker/, then mydocker/<id>.
        std::string dir = hierarchy;
        for (const std::string& level : splitList(path_, '/')) {
            const std::string parent = dir;
            dir = joinPath(dir, level);
            if (makeCgroupDir(dir)) made.push_back(dir);
            // A new cpuset cgroup has an empty cpuset.cpus and cpuset.mems, and no task
            // can join it (ENOSPC) until both are set: copy its parent's.
            if (isCpuset) inheritCpuset(parent, dir);
        }
    }
    removeMade.dismiss();
    // END SOLUTION
}

void V1Cgroup::applyLimits(const ResourceLimits& limits) {
    // BEGIN SOLUTION: todo("TODO (lab 03): write the v1 cpu, cpuset and pids limits", limits);
    if (limits.cpus) {
        // --cpus is CFS bandwidth: at most `quota` us of CPU time every `period` us, summed over
        // all CPUs. 0.5 CPU = 50 ms per 100 ms. Period first: the quota is read against it.
        write("cpu", "cpu.cfs_period_us", std::to_string(kCfsPeriodMicros));
        write("cpu", "cpu.cfs_quota_us", std::to_string(cfsQuotaMicros(*limits.cpus)));
    }
    if (limits.cpuShares) {
        // --cpu-shares is a relative weight: it matters only when CPUs are contended.
        write("cpu", "cpu.shares", std::to_string(*limits.cpuShares));
    }
    if (limits.cpusetCpus) {
        // cpuset.mems was set in create(): it is needed before any task joins.
        write("cpuset", "cpuset.cpus", *limits.cpusetCpus);
    }
    if (limits.pidsLimit) {
        // pids.max counts tasks (threads too): fork(2) and clone(2) fail with EAGAIN past it.
        write("pids", "pids.max", std::to_string(*limits.pidsLimit));
    }
    // END SOLUTION
}

void V1Cgroup::attach(pid_t pid) {
    // BEGIN SOLUTION: todo("TODO (lab 03): write the pid to cgroup.procs in every hierarchy", pid);
    // Each hierarchy is independent in v1: the process must join the cgroup in each one.
    // cgroup.procs moves the whole process (all its threads); `tasks` would move one thread.
    for (const std::string& hierarchy : hierarchies()) {
        writeFile(joinPath(joinPath(hierarchy, path_), "cgroup.procs"), std::to_string(pid));
    }
    // END SOLUTION
}

Usage V1Cgroup::usage() const {
    // BEGIN SOLUTION: todo("TODO (lab 03): read cpuacct.usage and pids.current");
    Usage usage;
    // v1 keeps CPU time in its own controller, cpuacct, in nanoseconds.
    if (hasController("cpuacct")) {
        constexpr std::uint64_t kNanosPerMicro = 1000;
        usage.cpuMicros = std::stoull(read("cpuacct", "cpuacct.usage")) / kNanosPerMicro;
    }
    if (hasController("pids")) usage.tasks = std::stoull(read("pids", "pids.current"));
    return usage;
    // END SOLUTION
}

void V1Cgroup::killAll() {
    // BEGIN SOLUTION: todo("TODO (lab 03): SIGKILL every pid of cgroup.procs");
    // v1 has no cgroup.kill: signal each process listed. A process may be in only some
    // hierarchies (an attach that failed half-way): look in each.
    for (const std::string& hierarchy : hierarchies()) {
        killProcs(joinPath(hierarchy, path_));
    }
    // END SOLUTION
}

void V1Cgroup::destroy() {
    // BEGIN SOLUTION: todo("TODO (lab 03): remove the cgroup directory from every hierarchy");
    // A cgroup with processes in it cannot be removed (EBUSY): kill what is left first.
    killAll();
    for (const std::string& hierarchy : hierarchies()) {
        removeCgroupDir(joinPath(hierarchy, path_));
        // mydocker/ goes too when this was its last container: nothing is left behind.
        if (const auto slash = path_.rfind('/'); slash != std::string::npos) {
            removeIfUnused(joinPath(hierarchy, path_.substr(0, slash)));
        }
    }
    // END SOLUTION
}

}  // namespace mydocker::cgroups
