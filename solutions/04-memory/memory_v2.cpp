// Lab 04: the memory limit and OOM counter of a cgroup v2 memory controller.
#include <string>

#include "mydocker/error.hpp"
#include "mydocker/memory.hpp"

namespace mydocker::memory {

bool V2Memory::setLimit(std::uint64_t bytes) {
    // BEGIN SOLUTION: todo("TODO (lab 04): write memory.max and memory.swap.max", bytes);
    // memory.max is the hard limit: past it (and after reclaim) the OOM killer acts.
    // (memory.high would only throttle: a soft limit.)
    cgroup_.write("memory", "memory.max", std::to_string(bytes));
    // v2 limits swap on its own, not RAM + swap as v1 did: 0 means no swap at all.
    // The file exists only with swap accounting: without it, say so.
    if (!cgroup_.hasFile("memory", "memory.swap.max")) return false;
    cgroup_.write("memory", "memory.swap.max", "0");
    return true;
    // END SOLUTION
}

std::uint64_t V2Memory::oomKills() const {
    // BEGIN SOLUTION: todo("TODO (lab 04): read the oom_kill count of memory.events");
    // memory.events counts events of this cgroup and its descendants: "oom" (the limit
    // was reached and reclaim failed) and "oom_kill" (a process was killed for it).
    const auto events = cgroups::parseFlatKeyed(cgroup_.read("memory", "memory.events"));
    const auto kills = events.find("oom_kill");
    return kills == events.end() ? 0 : kills->second;
    // END SOLUTION
}

std::uint64_t V2Memory::usageBytes() const {
    return std::stoull(cgroup_.read("memory", "memory.current"));
}

}  // namespace mydocker::memory
