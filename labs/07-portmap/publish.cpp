// Lab 07: publishing a container's ports, and taking them back. The rules are data
// (rules.cpp); this is the only place that changes the host for them.
#include <string>
#include <vector>

#include "mydocker/error.hpp"
#include "mydocker/file.hpp"
#include "mydocker/iptables.hpp"
#include "mydocker/log.hpp"
#include "mydocker/portmap.hpp"

namespace mydocker::portmap {

void publishPorts(const std::vector<PortMapping>& mappings, const Target& target) {
    // Hints:
    // - Before any rule: a packet DNATed by a rule must find its path open. Both switches
    //   belong to links of the runtime's (the veth's port, the bridge) and go with them.
    // - Half a port is worse than none: take back what was added, last first.
    todo("TODO (lab 07): hairpin mode on the container's bridge port, route_localnet on the bridge, then portRules() appended in order (removed again if one fails)", mappings, target);
}

void unpublishPorts(const std::vector<PortMapping>& mappings, const Target& target) {
    // Hint: The reverse of publishPorts(): the DNAT rules, which send traffic down the path the
    // others open, go last.
    todo("TODO (lab 07): delete every rule of portRules(), last first (iptables::remove skips one that is gone)", mappings, target);
}

}  // namespace mydocker::portmap
