// Lab 04: the runtime's two memory steps, on whichever cgroup version the host has.
#include "mydocker/memory.hpp"

#include "mydocker/error.hpp"
#include "mydocker/log.hpp"

namespace mydocker::memory {

std::unique_ptr<MemoryController> controllerFor(const cgroups::Cgroup& cgroup) {
    // The interface, not an `if` in every function: the version is decided here once.
    if (cgroup.version() == 1) return std::make_unique<V1Memory>(cgroup);
    return std::make_unique<V2Memory>(cgroup);
}

void applyMemoryLimit(const cgroups::Cgroup& cgroup, std::uint64_t bytes) {
    if (!cgroup.hasController("memory")) {
        throw Error("no memory cgroup controller on this host (cannot apply --memory)");
    }
    if (!controllerFor(cgroup)->setLimit(bytes)) {
        // Docker's own words: the container may then swap past its limit, instead of
        // being OOM-killed at it.
        log::warn("your kernel does not support swap limit capabilities or the cgroup is "
                  "not mounted; memory limited without swap");
    }
}

bool oomKilled(const cgroups::Cgroup& cgroup) {
    // No memory controller: the kernel counted nothing for this cgroup.
    if (!cgroup.hasController("memory")) return false;
    const std::uint64_t kills = controllerFor(cgroup)->oomKills();
    if (kills > 0) log::debug("the OOM killer killed {} process(es) of the container", kills);
    return kills > 0;
}

}  // namespace mydocker::memory
