// Lab 04: the memory limit and OOM counter of a cgroup v1 memory hierarchy.
#include <string>

#include "mydocker/error.hpp"
#include "mydocker/memory.hpp"

namespace mydocker::memory {

bool V1Memory::setLimit(std::uint64_t bytes) {
    todo("TODO (lab 04): write memory.limit_in_bytes, then memory.memsw.limit_in_bytes", bytes);
}

std::uint64_t V1Memory::oomKills() const {
    todo("TODO (lab 04): read the oom_kill count of memory.oom_control");
}

std::uint64_t V1Memory::usageBytes() const {
    return std::stoull(cgroup_.read("memory", "memory.usage_in_bytes"));
}

}  // namespace mydocker::memory
