/// @file
/// @brief Lab 07 contract: published ports, `-p [HOSTIP:]HOSTPORT:CTRPORT[/tcp|/udp]`.
///
/// A container on a bridge network (lab 06) has an address only the host can reach. To
/// let the world reach a server in it, the host rewrites the destination of what arrives
/// on one of its own ports: Docker's rules without its userland proxy, all in the kernel.
///
/// - **DNAT** (nat table, the runtime's chain kDnatChain): a packet to a local address of
///   the host on HOSTPORT gets the container's address and CTRPORT as its destination.
///   The chain is jumped to from PREROUTING (what arrives from elsewhere) and from OUTPUT
///   (what the host itself sends), both with `-m addrtype --dst-type LOCAL`, so traffic
///   to any other address on that port is never rewritten.
/// - **Forwarding** (filter, kForwardChain): the new connection from outside accepted to
///   the container's port (lab 06 accepts only what its containers start).
/// - **Hairpin** (nat, kPostroutingChain): a container reaching its own published port
///   through the host: the reply would go from the container to itself, never back
///   through the NAT, so the source is masqueraded. With `br_netfilter` (bridged frames
///   pass iptables) the bridge must also send the frame back out of the port it came in
///   by: `hairpin_mode` on the container's bridge port.
/// - **127.0.0.1** (OUTPUT's DNAT sends it to the bridge): the kernel drops a packet with
///   a loopback source on any other interface unless `route_localnet` is on for it (on
///   the bridge only); the container could not answer 127.0.0.1 anyway, so the source is
///   masqueraded to the bridge's address.
///
/// Every rule carries `-m comment --comment mydocker:<container id>`, and is deleted by
/// repeating it exactly with `-D` (iptables-nft needs every match, the comment too).
///
/// The rules of one container, for a mapping `HOSTPORT:CTRPORT/PROTO` (PROTO is tcp or
/// udp, C the container's address, BR its bridge), in this order; each rule once even
/// when two mappings share it (`-p 8080:80 -p 8081:80`):
///
/// @verbatim
/// nat    MYDOCKER-DNAT         [-d HOSTIP/32] -p PROTO -m PROTO --dport HOSTPORT
///                                -j DNAT --to-destination C:CTRPORT
/// filter MYDOCKER-FORWARD      -d C/32 ! -i BR -o BR -p PROTO -m PROTO --dport CTRPORT
///                                -j ACCEPT
/// nat    MYDOCKER-POSTROUTING  -s C/32 -d C/32 -p PROTO -m PROTO --dport CTRPORT
///                                -j MASQUERADE
/// nat    MYDOCKER-POSTROUTING  -s 127.0.0.0/8 -d C/32 -o BR -p PROTO -m PROTO --dport CTRPORT
///                                -j MASQUERADE
/// @endverbatim
/// (one line each: the words of Rule::match, the comment added by iptables::Rule).
///
/// All the DNAT rules of the mappings come first, then for each distinct (CTRPORT, PROTO),
/// in the order of the mappings, its three other rules.
///
/// The chains, their jumps, the check that a host port is free and the lock around them
/// are given (common/driver/ports.cpp); parsing a mapping, the rule list as data and
/// applying it are the lab. Implemented in `labs/07-portmap/` and `solutions/07-portmap/`.
/// Man pages: iptables(8), iptables-extensions(8) (DNAT, MASQUERADE, addrtype, comment),
/// ip-sysctl (route_localnet), bridge(8) (hairpin).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mydocker/iptables.hpp"
#include "mydocker/network.hpp"

namespace mydocker::portmap {

/// The transport protocol of a mapping.
enum class Protocol {
    tcp,  ///< the default
    udp,  ///< `/udp`
};

/// "tcp" or "udp", as iptables's `-p` and Docker's `/PROTO` spell it.
inline const char* protocolName(Protocol protocol) {
    return protocol == Protocol::udp ? "udp" : "tcp";
}

/// One `-p` value, parsed and checked.
struct PortMapping {
    std::optional<network::Ipv4> hostIp;  ///< HOSTIP: only this address; none: every address
    std::uint16_t hostPort = 0;           ///< HOSTPORT, 1..65535
    std::uint16_t containerPort = 0;      ///< CTRPORT, 1..65535
    Protocol protocol = Protocol::tcp;    ///< `/tcp` (the default) or `/udp`

    /// As Docker prints it: "8080:80/tcp", "127.0.0.1:8080:80/udp".
    std::string str() const {
        std::string text = hostIp ? hostIp->str() + ":" : "";
        return text + std::to_string(hostPort) + ":" + std::to_string(containerPort) + "/" +
               protocolName(protocol);
    }
    /// Equal when every field is (for tests).
    bool operator==(const PortMapping&) const = default;
};

/// Parses one `-p` value: `[HOSTIP:]HOSTPORT:CTRPORT[/tcp|/udp]`, as `docker run -p` does.
/// Ports are decimal numbers 1..65535; HOSTIP is a dotted quad (network::parseIpv4).
/// @throws UsageError naming the value and what is wrong with it: `0`, `65536`, `80`
///         alone, `8080:80/sctp`, `300.1.1.1:80:80`, `8080:80/` ...
PortMapping parsePortMapping(std::string_view text);

/// The runtime's nat chain of DNAT rules, jumped to from PREROUTING and OUTPUT.
inline constexpr const char* kDnatChain = "MYDOCKER-DNAT";
/// Lab 06's filter chain, jumped to from FORWARD.
inline constexpr const char* kForwardChain = "MYDOCKER-FORWARD";
/// Lab 06's nat chain, jumped to from POSTROUTING.
inline constexpr const char* kPostroutingChain = "MYDOCKER-POSTROUTING";
/// The loopback range, whose sources route_localnet lets out of the bridge.
inline constexpr const char* kLoopbackRange = "127.0.0.0/8";

/// The container whose ports are published.
struct Target {
    std::string owner;      ///< its id: every rule's comment is `mydocker:<owner>`
    std::string bridge;     ///< its network's bridge (`md...`)
    std::string hostVeth;   ///< the host's end of its veth pair: its port on the bridge
    network::Ipv4 address;  ///< its address on the network
};

/// The rules that publish `mappings` of `target`, as data, in the order of the table in
/// the file comment, each rule once. Pure: no iptables, no file.
std::vector<iptables::Rule> portRules(const std::vector<PortMapping>& mappings,
                                      const Target& target);

/// The sysctl that lets packets with a loopback source leave by `bridge` (ip-sysctl).
inline std::string routeLocalnetPath(const std::string& bridge) {
    return "/proc/sys/net/ipv4/conf/" + bridge + "/route_localnet";
}

/// The switch that lets a bridge send a frame back out of the port `port` it came in by.
inline std::string hairpinModePath(const std::string& port) {
    return "/sys/class/net/" + port + "/brport/hairpin_mode";
}

/// Publishes `mappings`: hairpin mode on the container's bridge port, route_localnet on
/// the bridge (both go with their links), then every rule of portRules(), appended in
/// order. A failure half-way removes the rules it added, then throws. The runtime's chains
/// exist already; the caller holds the host-wide lock.
/// @throws Error naming the rule or the file that failed
void publishPorts(const std::vector<PortMapping>& mappings, const Target& target);

/// Undoes publishPorts(): deletes every rule of portRules(), last first; a rule that is
/// not there is skipped (safe to call twice). The caller holds the host-wide lock.
/// @throws Error when a rule is there and cannot be deleted
void unpublishPorts(const std::vector<PortMapping>& mappings, const Target& target);

}  // namespace mydocker::portmap
