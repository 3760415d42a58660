// Links, addresses and routes through libnl-route-3: one request per function, each
// error naming the request and the link. Given code (netlink.hpp).
#include "mydocker/netlink.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <linux/if.h>
#include <netlink/cache.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>
#include <sched.h>

#include <cstring>
#include <memory>
#include <optional>
#include <utility>

#include "mydocker/error.hpp"
#include "mydocker/unique_fd.hpp"

namespace mydocker::netlink {
namespace {

/// libnl's functions return -NLE_* codes, not errno: its own text names the cause.
[[noreturn]] void fail(int err, std::string_view call, std::string_view what) {
    throw Error(fmt::format("{}({}): {}", call, what, nl_geterror(err)));
}

/// Owners of libnl objects (reference counted: put, not freed).
struct LinkPut {
    void operator()(rtnl_link* link) const { rtnl_link_put(link); }
};
struct AddrPut {
    void operator()(nl_addr* addr) const { nl_addr_put(addr); }
};
struct RtAddrPut {
    void operator()(rtnl_addr* addr) const { rtnl_addr_put(addr); }
};
struct RoutePut {
    void operator()(rtnl_route* route) const { rtnl_route_put(route); }
};
struct CacheFree {
    void operator()(nl_cache* cache) const { nl_cache_free(cache); }
};
using Link = std::unique_ptr<rtnl_link, LinkPut>;
using Addr = std::unique_ptr<nl_addr, AddrPut>;
using Cache = std::unique_ptr<nl_cache, CacheFree>;

/// The kernel's current view of link `name`, or null if there is none.
Link findLink(const Socket& sock, const std::string& name) {
    rtnl_link* link = nullptr;
    const int err = rtnl_link_get_kernel(sock.get(), 0, name.c_str(), &link);
    if (err == -NLE_OBJ_NOTFOUND || err == -NLE_NODEV) return nullptr;
    if (err < 0) fail(err, "rtnl_link_get_kernel", name);
    return Link(link);
}

/// Link `name`, which must exist.
Link getLink(const Socket& sock, const std::string& name) {
    Link link = findLink(sock, name);
    if (!link) throw Error(fmt::format("link {} does not exist", quoted(name)));
    return link;
}

/// Applies `changes` to link `name` (RTM_SETLINK / RTM_NEWLINK on an existing link).
void changeLink(const Socket& sock, const std::string& name, rtnl_link* changes,
                std::string_view what) {
    const Link link = getLink(sock, name);
    const int err = rtnl_link_change(sock.get(), link.get(), changes, 0);
    if (err < 0) fail(err, fmt::format("rtnl_link_change {}", what), name);
}

/// An AF_INET nl_addr of `address`/`prefix`.
Addr inetAddr(network::Ipv4 address, int prefix) {
    const std::uint32_t be = htonl(address.value);
    Addr addr(nl_addr_build(AF_INET, &be, sizeof be));
    if (!addr) throw Error("nl_addr_build: out of memory");
    nl_addr_set_prefixlen(addr.get(), prefix);
    return addr;
}

/// An AF_LLC nl_addr of the MAC address `mac`.
Addr macAddr(const std::string& mac) {
    nl_addr* addr = nullptr;
    const int err = nl_addr_parse(mac.c_str(), AF_LLC, &addr);
    if (err < 0) fail(err, "nl_addr_parse", mac);
    return Addr(addr);
}

/// Creates `link` (a new one: never takes over an existing link of the same name).
void addLink(const Socket& sock, rtnl_link* link, std::string_view what) {
    const int err = rtnl_link_add(sock.get(), link, NLM_F_CREATE | NLM_F_EXCL);
    if (err < 0) fail(err, "rtnl_link_add", what);
}

}  // namespace

Socket Socket::open() {
    nl_sock* sock = nl_socket_alloc();
    if (sock == nullptr) throw Error("nl_socket_alloc: out of memory");
    Socket owned(sock);
    const int err = nl_connect(sock, NETLINK_ROUTE);
    if (err < 0) fail(err, "nl_connect", "NETLINK_ROUTE");
    return owned;
}

Socket Socket::inNamespaceOf(pid_t pid) {
    const std::string path = fmt::format("/proc/{}/ns/net", pid);
    const UniqueFd target(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!target) throw SysError("open", path);
    const UniqueFd own(::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC));
    if (!own) throw SysError("open", "/proc/self/ns/net");
    // A socket belongs to the namespace it is created in, whatever its owner does next:
    // enter, create, leave. The runtime is single-threaded, and setns(2) moves one thread.
    if (::setns(target.get(), CLONE_NEWNET) != 0) throw SysError("setns", path);
    std::optional<Socket> sock;
    std::optional<Error> failed;
    try {
        sock.emplace(open());
    } catch (const Error& e) {
        failed = e;
    }
    if (::setns(own.get(), CLONE_NEWNET) != 0) throw SysError("setns", "/proc/self/ns/net");
    if (failed) throw *failed;
    return std::move(*sock);
}

Socket::Socket(Socket&& other) noexcept : sock_(std::exchange(other.sock_, nullptr)) {}

Socket& Socket::operator=(Socket&& other) noexcept {
    if (this != &other) {
        if (sock_ != nullptr) nl_socket_free(sock_);
        sock_ = std::exchange(other.sock_, nullptr);
    }
    return *this;
}

Socket::~Socket() {
    if (sock_ != nullptr) nl_socket_free(sock_);
}

bool linkExists(const Socket& sock, const std::string& name) {
    return findLink(sock, name) != nullptr;
}

unsigned linkMtu(const Socket& sock, const std::string& name) {
    return rtnl_link_get_mtu(getLink(sock, name).get());
}

void createBridge(const Socket& sock, const std::string& name, const std::string& mac) {
    const Link link(rtnl_link_alloc());
    if (!link) throw Error("rtnl_link_alloc: out of memory");
    rtnl_link_set_name(link.get(), name.c_str());
    const int err = rtnl_link_set_type(link.get(), "bridge");
    if (err < 0) fail(err, "rtnl_link_set_type bridge", name);
    const Addr address = macAddr(mac);
    rtnl_link_set_addr(link.get(), address.get());
    addLink(sock, link.get(), fmt::format("bridge {}", name));
}

void createVethPair(const Socket& sock, const std::string& hostName, const std::string& peerName,
                    pid_t peerPid, unsigned mtu) {
    rtnl_link* link = rtnl_link_veth_alloc();
    if (link == nullptr) throw Error("rtnl_link_veth_alloc: out of memory");
    // rtnl_link_veth_release puts the link and the peer it holds.
    const std::unique_ptr<rtnl_link, void (*)(rtnl_link*)> owned(link, rtnl_link_veth_release);
    const Link peer(rtnl_link_veth_get_peer(link));
    rtnl_link_set_name(link, hostName.c_str());
    rtnl_link_set_mtu(link, mtu);
    rtnl_link_set_name(peer.get(), peerName.c_str());
    rtnl_link_set_mtu(peer.get(), mtu);
    rtnl_link_set_ns_pid(peer.get(), peerPid);
    addLink(sock, link,
            fmt::format("veth {} peer {} in pid {}'s netns", hostName, peerName, peerPid));
}

void setMaster(const Socket& sock, const std::string& name, const std::string& bridge) {
    const Link changes(rtnl_link_alloc());
    if (!changes) throw Error("rtnl_link_alloc: out of memory");
    rtnl_link_set_master(changes.get(), rtnl_link_get_ifindex(getLink(sock, bridge).get()));
    changeLink(sock, name, changes.get(), fmt::format("master {}", bridge));
}

void setMacAddress(const Socket& sock, const std::string& name, const std::string& mac) {
    const Link changes(rtnl_link_alloc());
    if (!changes) throw Error("rtnl_link_alloc: out of memory");
    const Addr address = macAddr(mac);
    rtnl_link_set_addr(changes.get(), address.get());
    changeLink(sock, name, changes.get(), fmt::format("address {}", mac));
}

void setUp(const Socket& sock, const std::string& name) {
    const Link changes(rtnl_link_alloc());
    if (!changes) throw Error("rtnl_link_alloc: out of memory");
    rtnl_link_set_flags(changes.get(), IFF_UP);
    changeLink(sock, name, changes.get(), "up");
}

void deleteLink(const Socket& sock, const std::string& name) {
    const Link link(rtnl_link_alloc());
    if (!link) throw Error("rtnl_link_alloc: out of memory");
    rtnl_link_set_name(link.get(), name.c_str());
    const int err = rtnl_link_delete(sock.get(), link.get());
    // Gone meanwhile (a veth pair dies with its peer's namespace): what was asked is done.
    if (err == -NLE_OBJ_NOTFOUND || err == -NLE_NODEV) return;
    if (err < 0) fail(err, "rtnl_link_delete", name);
}

void addAddress(const Socket& sock, const std::string& name, network::Ipv4 address,
                const network::Subnet& subnet) {
    const std::unique_ptr<rtnl_addr, RtAddrPut> addr(rtnl_addr_alloc());
    if (!addr) throw Error("rtnl_addr_alloc: out of memory");
    rtnl_addr_set_ifindex(addr.get(), rtnl_link_get_ifindex(getLink(sock, name).get()));
    const Addr local = inetAddr(address, subnet.prefix);
    int err = rtnl_addr_set_local(addr.get(), local.get());
    if (err < 0) fail(err, "rtnl_addr_set_local", address.str());
    const Addr broadcast = inetAddr(subnet.broadcast(), subnet.prefix);
    err = rtnl_addr_set_broadcast(addr.get(), broadcast.get());
    if (err < 0) fail(err, "rtnl_addr_set_broadcast", subnet.broadcast().str());
    err = rtnl_addr_add(sock.get(), addr.get(), NLM_F_CREATE | NLM_F_EXCL);
    if (err < 0)
        fail(err, "rtnl_addr_add", fmt::format("{}/{} dev {}", address.str(), subnet.prefix, name));
}

void addDefaultRoute(const Socket& sock, network::Ipv4 gateway) {
    const std::unique_ptr<rtnl_route, RoutePut> route(rtnl_route_alloc());
    if (!route) throw Error("rtnl_route_alloc: out of memory");
    rtnl_route_set_family(route.get(), AF_INET);
    const Addr any = inetAddr(network::Ipv4{}, 0);
    int err = rtnl_route_set_dst(route.get(), any.get());
    if (err < 0) fail(err, "rtnl_route_set_dst", "0.0.0.0/0");
    rtnl_nexthop* hop = rtnl_route_nh_alloc();
    if (hop == nullptr) throw Error("rtnl_route_nh_alloc: out of memory");
    const Addr via = inetAddr(gateway, 32);
    rtnl_route_nh_set_gateway(hop, via.get());
    rtnl_route_add_nexthop(route.get(), hop);  // the route owns it from here
    err = rtnl_route_add(sock.get(), route.get(), NLM_F_CREATE | NLM_F_EXCL);
    if (err < 0) fail(err, "rtnl_route_add", fmt::format("default via {}", gateway.str()));
}

std::vector<network::Subnet> routedSubnets(const Socket& sock) {
    nl_cache* raw = nullptr;
    const int err = rtnl_route_alloc_cache(sock.get(), AF_INET, 0, &raw);
    if (err < 0) fail(err, "rtnl_route_alloc_cache", "AF_INET");
    const Cache cache(raw);
    std::vector<network::Subnet> subnets;
    for (nl_object* object = nl_cache_get_first(raw); object != nullptr;
         object = nl_cache_get_next(object)) {
        nl_addr* dst = rtnl_route_get_dst(reinterpret_cast<rtnl_route*>(object));
        if (dst == nullptr || nl_addr_get_family(dst) != AF_INET) continue;
        const int prefix = static_cast<int>(nl_addr_get_prefixlen(dst));
        if (prefix == 0) continue;  // the default route overlaps everything
        std::uint32_t be = 0;
        std::memcpy(&be, nl_addr_get_binary_addr(dst), sizeof be);
        network::Subnet subnet{network::Ipv4{ntohl(be)}, prefix};
        subnet.network.value &= subnet.mask();
        subnets.push_back(subnet);
    }
    return subnets;
}

std::vector<std::string> bridgesNamed(const Socket& sock, const std::string& prefix) {
    nl_cache* raw = nullptr;
    const int err = rtnl_link_alloc_cache(sock.get(), AF_UNSPEC, &raw);
    if (err < 0) fail(err, "rtnl_link_alloc_cache", "AF_UNSPEC");
    const Cache cache(raw);
    std::vector<std::string> names;
    for (nl_object* object = nl_cache_get_first(raw); object != nullptr;
         object = nl_cache_get_next(object)) {
        auto* link = reinterpret_cast<rtnl_link*>(object);
        const char* type = rtnl_link_get_type(link);
        const std::string name = rtnl_link_get_name(link);
        if (type != nullptr && std::string_view(type) == "bridge" && name.starts_with(prefix)) {
            names.push_back(name);
        }
    }
    return names;
}

}  // namespace mydocker::netlink
