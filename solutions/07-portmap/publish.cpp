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
    // BEGIN SOLUTION: todo("TODO (lab 07): hairpin mode on the container's bridge port, route_localnet on the bridge, then portRules() appended in order (removed again if one fails)", mappings, target);
    // Before any rule: a packet DNATed by a rule must find its path open. Both switches
    // belong to links of the runtime's (the veth's port, the bridge) and go with them.
    writeFile(hairpinModePath(target.hostVeth), "1\n");
    writeFile(routeLocalnetPath(target.bridge), "1\n");
    const std::vector<iptables::Rule> rules = portRules(mappings, target);
    std::size_t added = 0;
    try {
        for (const iptables::Rule& rule : rules) {
            iptables::append(rule);
            ++added;
        }
    } catch (const Error&) {
        // Half a port is worse than none: take back what was added, last first.
        while (added > 0) {
            try {
                iptables::remove(rules[--added]);
            } catch (const Error& e) {
                log::write(log::Level::error, e.what());
            }
        }
        throw;
    }
    // END SOLUTION
}

void unpublishPorts(const std::vector<PortMapping>& mappings, const Target& target) {
    // BEGIN SOLUTION: todo("TODO (lab 07): delete every rule of portRules(), last first (iptables::remove skips one that is gone)", mappings, target);
    // The reverse of publishPorts(): the DNAT rules, which send traffic down the path the
    // others open, go last.
    const std::vector<iptables::Rule> rules = portRules(mappings, target);
    for (auto rule = rules.rbegin(); rule != rules.rend(); ++rule) iptables::remove(*rule);
    // END SOLUTION
}

}  // namespace mydocker::portmap
