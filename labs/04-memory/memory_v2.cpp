// Lab 04: the memory limit and OOM counter of a cgroup v2 memory controller.
#include <string>

#include "mydocker/error.hpp"
#include "mydocker/memory.hpp"

namespace mydocker::memory {

bool V2Memory::setLimit(std::uint64_t bytes) {
    todo("TODO (lab 04): write memory.max and memory.swap.max", bytes);
}

std::uint64_t V2Memory::oomKills() const {
    todo("TODO (lab 04): read the oom_kill count of memory.events");
}

std::uint64_t V2Memory::usageBytes() const {
    return std::stoull(cgroup_.read("memory", "memory.current"));
}

}  // namespace mydocker::memory
