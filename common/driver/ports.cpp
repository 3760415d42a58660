// Lab 07 in the driver (ports.hpp): what surrounds the lab's rules.
//
//   nat PREROUTING  -m addrtype --dst-type LOCAL -j MYDOCKER-DNAT    (what arrives)
//   nat OUTPUT      -m addrtype --dst-type LOCAL -j MYDOCKER-DNAT    (what the host sends)
//
// Both jumps are tagged `mydocker:chains` and go, with the chain, when the last published
// port does. Everything here that reads or changes the chains holds HostLock, the lock
// of lab 06's chains: two runtimes cannot both find a port free and both publish it.
#include "ports.hpp"

#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <set>
#include <utility>

#include "mydocker/config.hpp"
#include "mydocker/error.hpp"
#include "mydocker/iptables.hpp"
#include "mydocker/log.hpp"
#include "mydocker/unique_fd.hpp"

namespace mydocker::driver {
namespace {

using portmap::PortMapping;
using portmap::Protocol;

/// The owner (comment) of the jumps into the runtime's chains, as lab 06's.
constexpr const char* kJumpOwner = "chains";

/// The jumps into the DNAT chain: only traffic to an address of the host's own, so a
/// connection to any other address on a published port goes where it was going.
std::vector<iptables::Rule> dnatJumps() {
    const std::vector<std::string> match = {"-m",    "addrtype", "--dst-type",
                                            "LOCAL", "-j",       portmap::kDnatChain};
    return {{"nat", "PREROUTING", match, kJumpOwner}, {"nat", "OUTPUT", match, kJumpOwner}};
}

void ensureDnatChain() {
    iptables::ensureChain("nat", portmap::kDnatChain);
    for (const iptables::Rule& jump : dnatJumps()) {
        if (!iptables::exists(jump)) iptables::insertFirst(jump);
    }
}

void removeDnatChainIfUnused() {
    if (!iptables::chainIsEmpty("nat", portmap::kDnatChain)) return;
    for (const iptables::Rule& jump : dnatJumps()) iptables::remove(jump);
    iptables::deleteChainIfEmpty("nat", portmap::kDnatChain);
}

/// A published port in the DNAT chain, as read back from `iptables -S`.
struct Published {
    std::string protocol;
    std::string port;
    std::string address;  ///< "" for every address
    std::string owner;
};

std::vector<Published> publishedPorts() {
    std::vector<Published> found;
    const std::string prefix = fmt::format("-A {} ", portmap::kDnatChain);
    for (const std::string& line : iptables::listRules("nat")) {
        if (!line.starts_with(prefix)) continue;
        const std::vector<std::string> words = iptables::splitRuleLine(line);
        Published p;
        p.owner = iptables::ownerOf(words);
        for (std::size_t i = 0; i + 1 < words.size(); ++i) {
            if (words[i] == "-p") p.protocol = words[i + 1];
            if (words[i] == "--dport") p.port = words[i + 1];
            if (words[i] == "-d") p.address = words[i + 1].substr(0, words[i + 1].find('/'));
        }
        found.push_back(p);
    }
    return found;
}

/// Throws if a program holds `mapping`'s host port: bind(2) tries it as a server would.
void checkNotBound(const PortMapping& mapping) {
    const bool udp = mapping.protocol == Protocol::udp;
    const UniqueFd s(::socket(AF_INET, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0));
    if (!s) throw SysError("socket", "AF_INET");
    if (!udp) {
        // A closed connection's TIME_WAIT is not a program holding the port; a listener is.
        const int one = 1;
        if (::setsockopt(s.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0)
            throw SysError("setsockopt", "SO_REUSEADDR");
    }
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(mapping.hostPort);
    address.sin_addr.s_addr = htonl(mapping.hostIp ? mapping.hostIp->value : INADDR_ANY);
    if (::bind(s.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0) return;
    const int err = errno;
    if (err == EADDRINUSE) {
        throw UsageError(fmt::format("cannot publish {} (port {}/{} is in use by another program)",
                                     mapping.str(), mapping.hostPort,
                                     portmap::protocolName(mapping.protocol)));
    }
    if (err == EADDRNOTAVAIL) {
        throw UsageError(fmt::format("cannot publish {} ({} is not an address of this host)",
                                     mapping.str(), mapping.hostIp ? mapping.hostIp->str() : ""));
    }
    throw SysError("bind", mapping.str());
}

}  // namespace

std::vector<PortMapping> checkPublishFlags(const std::vector<std::string>& values, NetMode mode) {
    std::vector<PortMapping> mappings;
    for (const std::string& value : values) mappings.push_back(portmap::parsePortMapping(value));
    if (mappings.empty()) return mappings;
    if (mode != NetMode::bridge) {
        throw UsageError(
            fmt::format("cannot publish {} with --net {} (published ports need a bridge network)",
                        mappings.front().str(), mode == NetMode::host ? "host" : "none"));
    }
    std::set<std::pair<std::uint16_t, Protocol>> seen;
    for (const PortMapping& m : mappings) {
        // One host port, one container: Docker refuses two bindings of a port (any address).
        if (!seen.insert({m.hostPort, m.protocol}).second) {
            throw UsageError(fmt::format("cannot publish {} (host port {}/{} is given twice)",
                                         m.str(), m.hostPort, portmap::protocolName(m.protocol)));
        }
    }
    checkPortsFree(mappings);
    return mappings;
}

void checkPortsFree(const std::vector<PortMapping>& mappings) {
    const std::vector<Published> published = publishedPorts();
    for (const PortMapping& m : mappings) {
        for (const Published& p : published) {
            const bool sameAddress = p.address.empty() || !m.hostIp || p.address == m.hostIp->str();
            if (p.protocol == portmap::protocolName(m.protocol) &&
                p.port == std::to_string(m.hostPort) && sameAddress) {
                throw UsageError(fmt::format(
                    "cannot publish {} (host port {}/{} is published already, by container {})",
                    m.str(), m.hostPort, p.protocol, shortId(p.owner)));
            }
        }
        checkNotBound(m);
    }
}

portmap::Target portTarget(const std::string& id, const network::Endpoint& endpoint) {
    return portmap::Target{id, endpoint.bridge, endpoint.hostVeth, endpoint.address};
}

void publishContainerPorts(const std::vector<PortMapping>& mappings,
                           const portmap::Target& target) {
    const HostLock lock;
    ensureDnatChain();
    try {
        checkPortsFree(mappings);
        portmap::publishPorts(mappings, target);
    } catch (const Error&) {
        removeDnatChainIfUnused();
        throw;
    }
}

void unpublishContainerPorts(const std::vector<PortMapping>& mappings,
                             const portmap::Target& target) {
    const HostLock lock;
    portmap::unpublishPorts(mappings, target);
    removeDnatChainIfUnused();
}

void removePortRulesOf(const std::string& id) {
    const HostLock lock;
    iptables::removeOwnedBy("nat", portmap::kDnatChain, id);
    iptables::removeOwnedBy("filter", portmap::kForwardChain, id);
    iptables::removeOwnedBy("nat", portmap::kPostroutingChain, id);
    removeDnatChainIfUnused();
}

}  // namespace mydocker::driver
