// Lab 04: the memory limit and OOM counter of a cgroup v1 memory hierarchy.
#include <string>

#include "mydocker/error.hpp"
#include "mydocker/memory.hpp"

namespace mydocker::memory {

bool V1Memory::setLimit(std::uint64_t bytes) {
    // BEGIN SOLUTION: todo("TODO (lab 04): write memory.limit_in_bytes, then memory.memsw.limit_in_bytes", bytes);
    const std::string value = std::to_string(bytes);
    cgroup_.write("memory", "memory.limit_in_bytes", value);
    // memsw limits RAM + swap together. At the same value as the RAM limit, swap cannot
    // add anything: the OOM killer acts at the limit. Order matters: the kernel refuses
    // (EINVAL) a memsw limit below the RAM limit, so RAM goes first. The file exists only
    // with swap accounting (CONFIG_MEMCG_SWAP, swapaccount=1): without it, say so.
    if (!cgroup_.hasFile("memory", "memory.memsw.limit_in_bytes")) return false;
    cgroup_.write("memory", "memory.memsw.limit_in_bytes", value);
    return true;
    // END SOLUTION
}

std::uint64_t V1Memory::oomKills() const {
    // BEGIN SOLUTION: todo("TODO (lab 04): read the oom_kill count of memory.oom_control");
    // memory.oom_control: "oom_kill_disable 0", "under_oom 0" and, since Linux 4.13,
    // "oom_kill N": the processes of this cgroup the OOM killer has killed.
    const auto control = cgroups::parseFlatKeyed(cgroup_.read("memory", "memory.oom_control"));
    const auto kills = control.find("oom_kill");
    // Before 4.13 the kernel counts no kills: report none rather than guess. (Not from
    // memory.failcnt: it counts every time usage hit the limit, and reclaiming page
    // cache hits it all the time without anything being killed.)
    return kills == control.end() ? 0 : kills->second;
    // END SOLUTION
}

std::uint64_t V1Memory::usageBytes() const {
    return std::stoull(cgroup_.read("memory", "memory.usage_in_bytes"));
}

}  // namespace mydocker::memory
