/// @file
/// @brief Links, addresses and routes through rtnetlink (libnl-route-3): given code.
///
/// Thin wrappers, one netlink request each, that name the request and the link in their
/// errors. A Socket speaks to the network namespace it was opened in: open one in a
/// container's namespace (Socket::inNamespaceOf) to configure the container's side.
/// Lab 06 calls these in the order that wires a container (network.hpp).
/// Man pages: rtnetlink(7), ip-link(8), ip-address(8), ip-route(8), veth(4).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "mydocker/network.hpp"

struct nl_sock;

namespace mydocker::netlink {

/// A NETLINK_ROUTE socket (libnl's nl_sock), bound for good to one network namespace.
/// Move-only.
class Socket {
  public:
    /// A socket in the caller's network namespace.
    /// @throws Error if it cannot be allocated or connected
    static Socket open();
    /// A socket in the network namespace of process `pid`: the caller enters that
    /// namespace (setns(2)) just long enough to create the socket, then returns to its own.
    /// @throws SysError naming the failed call
    static Socket inNamespaceOf(pid_t pid);

    /// Takes over `other`'s socket.
    Socket(Socket&& other) noexcept;
    /// Frees this socket, then takes over `other`'s.
    Socket& operator=(Socket&& other) noexcept;
    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;
    /// Frees the socket.
    ~Socket();

    /// libnl's handle.
    nl_sock* get() const noexcept { return sock_; }

  private:
    explicit Socket(nl_sock* sock) noexcept : sock_(sock) {}
    nl_sock* sock_ = nullptr;
};

/// True when a link named `name` exists in the socket's namespace.
bool linkExists(const Socket& sock, const std::string& name);

/// The MTU of link `name`. @throws Error if it does not exist
unsigned linkMtu(const Socket& sock, const std::string& name);

/// Creates the bridge `name` with the MAC address `mac` (fixed, so the bridge's address
/// does not change as ports come and go). Fails if any link has that name.
/// @throws Error naming the bridge (`Object exists` if the name is taken)
void createBridge(const Socket& sock, const std::string& name, const std::string& mac);

/// Creates a veth pair: `hostName` in the socket's namespace, and its peer `peerName`
/// created directly in the network namespace of process `peerPid` (so the peer's name
/// never meets the host's names), both with MTU `mtu`. Both ends are down.
/// @throws Error naming the pair
void createVethPair(const Socket& sock, const std::string& hostName, const std::string& peerName,
                    pid_t peerPid, unsigned mtu);

/// Makes link `name` a port of the bridge `bridge`.
void setMaster(const Socket& sock, const std::string& name, const std::string& bridge);

/// Sets the MAC address of link `name` ("02:42:0a:00:00:02").
void setMacAddress(const Socket& sock, const std::string& name, const std::string& mac);

/// Sets link `name` up.
void setUp(const Socket& sock, const std::string& name);

/// Deletes link `name` (a veth end takes its peer with it); nothing if it is gone.
void deleteLink(const Socket& sock, const std::string& name);

/// Adds `address`/`subnet.prefix` (with the subnet's broadcast address) to link `name`.
void addAddress(const Socket& sock, const std::string& name, network::Ipv4 address,
                const network::Subnet& subnet);

/// Adds the default route via `gateway` (reached on the link the gateway's subnet is on).
void addDefaultRoute(const Socket& sock, network::Ipv4 gateway);

/// The destinations of the IPv4 routes in the socket's namespace, every table, the
/// default route excepted: what a new network's subnet must not overlap.
std::vector<network::Subnet> routedSubnets(const Socket& sock);

/// The names of the bridges whose names start with `prefix`.
std::vector<std::string> bridgesNamed(const Socket& sock, const std::string& prefix);

}  // namespace mydocker::netlink
