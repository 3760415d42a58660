/// @file
/// @brief Lab 06 contract: a container on a bridge network, with an address of its own.
///
/// A network is a Linux bridge on the host with the gateway address on it (given code:
/// `network create`). A container on it gets its own network namespace (clone(2) with
/// CLONE_NEWNET) and, before CMD runs:
///
/// - an address of the network's subnet, chosen by the IPAM (the address bitmap below),
///   never the network's own address, the gateway or the broadcast address;
/// - a veth pair: one end on the host, a port of the bridge; the other end created in
///   the container's namespace and named `eth0`, with the bridge's MTU and a MAC address
///   derived from its IPv4 address (Docker's `02:42:` prefix);
/// - `lo` up, the address on `eth0`, and the default route via the gateway.
///
/// Types and parsing (Ipv4, Subnet) are given; the bitmap, the MAC address and the wiring
/// are the lab. The netlink calls are given in netlink.hpp: the order of them is the lesson.
///
/// Implemented in `labs/06-bridge/` (student) and `solutions/06-bridge/`.
/// Man pages: network_namespaces(7), veth(4), ip-link(8), ip-address(8), ip-route(8),
/// rtnetlink(7), setns(2).
#pragma once

#include <sys/types.h>

#include <compare>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace mydocker::network {

/// An IPv4 address, in host byte order (so that `+ 1` is the next address).
struct Ipv4 {
    std::uint32_t value = 0;  ///< 10.0.0.1 is 0x0a000001

    /// The dotted quad, "10.0.0.1".
    std::string str() const;
    /// Ordered as numbers (for sets and maps).
    auto operator<=>(const Ipv4&) const = default;
};

/// Parses a dotted quad: four decimal numbers of 0..255, nothing else.
/// @throws UsageError naming the text (`300.1.1.1`, `1.2.3`, `1.2.3.4x`)
Ipv4 parseIpv4(std::string_view text);

/// An IPv4 subnet: its network address and prefix length.
struct Subnet {
    Ipv4 network;    ///< the first address, host bits zero
    int prefix = 0;  ///< 0..32

    /// The number of addresses, network and broadcast included (256 for a /24).
    std::uint64_t size() const;
    /// The last address (255 of a /24).
    Ipv4 broadcast() const;
    /// The netmask as a number (0xffffff00 for a /24).
    std::uint32_t mask() const;
    /// True when `address` is in the subnet.
    bool contains(Ipv4 address) const;
    /// True when the two subnets share an address.
    bool overlaps(const Subnet& other) const;
    /// "10.0.0.0/24".
    std::string str() const;
    /// Equal when network and prefix are.
    bool operator==(const Subnet&) const = default;
};

/// Parses a CIDR: `A.B.C.D/N` with N in 0..32 and no host bits set.
/// @throws UsageError naming the text and what is wrong (`300.1.1.0/24`: not an address;
///         `10.0.0.0/33`: prefix; `10.0.0.1/24`: host bits set)
Subnet parseSubnet(std::string_view text);

/// The smallest subnet a network may have: a /30 has two usable addresses, the gateway
/// and one container.
inline constexpr int kLongestPrefix = 30;

/// The largest subnet a network may have (a bitmap of 65536 addresses).
inline constexpr int kShortestPrefix = 16;

// --- IPAM ----------------------------------------------------------------------------

/// Which addresses of a subnet are taken: bit `i` stands for `subnet.network + i`.
using AddressBitmap = std::vector<bool>;

/// The bitmap of `subnet` (one bit per address, subnet.size() bits) with the addresses
/// no container may have set (the network address, `gateway`, the broadcast address)
/// and those in `taken` set too. Pure.
AddressBitmap addressBitmap(const Subnet& subnet, Ipv4 gateway, const std::set<Ipv4>& taken);

/// The lowest address whose bit is clear, or nothing when the subnet is full. Pure.
std::optional<Ipv4> firstFreeAddress(const Subnet& subnet, const AddressBitmap& bitmap);

// --- the container's side of the network ----------------------------------------------

/// The MAC address of a container's `eth0`: Docker's `02:42` (locally administered,
/// unicast) followed by the four bytes of its IPv4 address: 10.0.0.2 is
/// `02:42:0a:00:00:02`. So the address can be read off the MAC, and two containers
/// never share one.
std::string macForAddress(Ipv4 address);

/// The name of the container's interface, in its own namespace.
inline constexpr const char* kContainerInterface = "eth0";

/// Everything needed to put one container on a network.
struct Endpoint {
    pid_t pid = -1;  ///< the container's PID 1: its network namespace is /proc/PID/ns/net
    std::string
        hostVeth;        ///< the host's end of the veth pair (an `md` name, 15 characters at most)
    std::string bridge;  ///< the network's bridge, which the host end joins
    Subnet subnet;       ///< the network's subnet
    Ipv4 gateway;        ///< the bridge's address: the container's default route
    Ipv4 address;        ///< the container's address (from the IPAM)
};

/// Wires the container into the network: the veth pair with its peer created inside the
/// container's namespace as `eth0`, the host end on the bridge and up; inside, the MAC,
/// the address, `lo` and `eth0` up, and the default route via the gateway.
/// Runs in the runtime (the host's namespace), before the container is released.
/// @throws SysError (a netlink call failed) naming the call and the link
void connectContainer(const Endpoint& endpoint);

/// Undoes connectContainer(): deletes the host's end of the veth pair, which takes the
/// container's `eth0` with it. Nothing to do if the link is gone already (a veth pair
/// dies with the namespace of its peer).
/// @throws SysError if the link exists and cannot be deleted
void disconnectContainer(const Endpoint& endpoint);

}  // namespace mydocker::network
