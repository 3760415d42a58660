// Lab 07: the rules that publish a container's ports, as data (see the table in
// mydocker/portmap.hpp). Building them is pure: a unit test reads the list, and one
// function (publish.cpp) applies it.
//
//   a client -> HOST:8080 --PREROUTING/OUTPUT: DNAT--> C:80 --FORWARD: ACCEPT--> the bridge
//   C -> HOST:8080 -> DNAT -> C:80          POSTROUTING: MASQUERADE (hairpin)
//   127.0.0.1 -> 127.0.0.1:8080 -> DNAT     POSTROUTING: MASQUERADE out of the bridge
#include <algorithm>
#include <string>
#include <vector>

#include "mydocker/error.hpp"
#include "mydocker/portmap.hpp"

namespace mydocker::portmap {

std::vector<iptables::Rule> portRules(const std::vector<PortMapping>& mappings,
                                      const Target& target) {
    // BEGIN SOLUTION: todo("TODO (lab 07): the rules of the table in portmap.hpp, as data: the DNATs, then per distinct container port its ACCEPT and two MASQUERADEs, each once", mappings, target);
    const std::string container = target.address.str() + "/32";
    const std::string& br = target.bridge;
    std::vector<iptables::Rule> rules;
    const auto add = [&](const char* table, const char* chain, std::vector<std::string> match) {
        iptables::Rule rule{table, chain, std::move(match), target.owner};
        // Two mappings to one container port share its rules: each rule once, so that
        // each -D deletes the one copy there is.
        if (std::find(rules.begin(), rules.end(), rule) == rules.end()) rules.push_back(rule);
    };
    // The rewrite: only what is addressed to the host (the chain's jumps check
    // --dst-type LOCAL), only on HOSTIP when one was given.
    for (const PortMapping& m : mappings) {
        const std::string proto = protocolName(m.protocol);
        std::vector<std::string> match;
        if (m.hostIp) match = {"-d", m.hostIp->str() + "/32"};
        match.insert(match.end(), {"-p", proto, "-m", proto, "--dport", std::to_string(m.hostPort),
                                   "-j", "DNAT", "--to-destination",
                                   target.address.str() + ":" + std::to_string(m.containerPort)});
        add("nat", kDnatChain, std::move(match));
    }
    for (const PortMapping& m : mappings) {
        const std::string proto = protocolName(m.protocol);
        const std::string port = std::to_string(m.containerPort);
        // A new connection from another interface to the container's port: lab 06 lets
        // through only what its containers start, and the replies.
        add("filter", kForwardChain,
            {"-d", container, "!", "-i", br, "-o", br, "-p", proto, "-m", proto, "--dport", port,
             "-j", "ACCEPT"});
        // Hairpin: the container reached itself through the host. Without a new source it
        // would answer itself directly, and the reply would miss the NAT it must undo.
        add("nat", kPostroutingChain,
            {"-s", container, "-d", container, "-p", proto, "-m", proto, "--dport", port, "-j",
             "MASQUERADE"});
        // From 127.0.0.1: an address the container cannot answer; the bridge's instead.
        add("nat", kPostroutingChain,
            {"-s", kLoopbackRange, "-d", container, "-o", br, "-p", proto, "-m", proto, "--dport",
             port, "-j", "MASQUERADE"});
    }
    return rules;
    // END SOLUTION
}

}  // namespace mydocker::portmap
