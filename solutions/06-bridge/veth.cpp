// Lab 06: a container on a bridge. The runtime wires it from the host before it lets
// the container run, so that CMD finds its network ready, even a one-shot CMD.
//
//     host namespace                          container namespace (clone(2), CLONE_NEWNET)
//     --------------                          ---------------------------------------------
//     bridge mdXXXX  10.0.0.1/24
//        |
//     mdvXXXX (host end) ===== veth pair ===== eth0  10.0.0.2/24, 02:42:0a:00:00:02
//                                              lo    up
//                                              default via 10.0.0.1
#include "mydocker/error.hpp"
#include "mydocker/netlink.hpp"
#include "mydocker/network.hpp"

namespace mydocker::network {

void connectContainer(const Endpoint& endpoint) {
    // BEGIN SOLUTION: todo("TODO (lab 06): the veth pair (its peer made in the container's netns as eth0), the host end on the bridge and up; inside: MAC, address, lo and eth0 up, default route", endpoint);
    // Hints on the order: the peer is created directly in the container's namespace
    // (netlink's IFLA_NET_NS_PID), never on the host, where a link named eth0 exists.
    // The host end takes the bridge's MTU: a port with a smaller MTU than its bridge
    // would lower the bridge's. A route needs its gateway reachable: the address first.
    const netlink::Socket host = netlink::Socket::open();
    const unsigned mtu = netlink::linkMtu(host, endpoint.bridge);
    netlink::createVethPair(host, endpoint.hostVeth, kContainerInterface, endpoint.pid, mtu);
    netlink::setMaster(host, endpoint.hostVeth, endpoint.bridge);
    netlink::setUp(host, endpoint.hostVeth);

    // A socket opened in the container's namespace speaks to that namespace only.
    const netlink::Socket inside = netlink::Socket::inNamespaceOf(endpoint.pid);
    netlink::setMacAddress(inside, kContainerInterface, macForAddress(endpoint.address));
    netlink::setUp(inside, "lo");
    netlink::addAddress(inside, kContainerInterface, endpoint.address, endpoint.subnet);
    netlink::setUp(inside, kContainerInterface);
    netlink::addDefaultRoute(inside, endpoint.gateway);
    // END SOLUTION
}

void disconnectContainer(const Endpoint& endpoint) {
    // BEGIN SOLUTION: todo("TODO (lab 06): delete the host's end of the veth pair, if it is still there", endpoint);
    // Deleting one end of a veth pair deletes the other. And when the container's
    // namespace dies (its last process exits), the kernel deletes its eth0, and the
    // host end with it: then there is nothing left to do.
    const netlink::Socket host = netlink::Socket::open();
    if (netlink::linkExists(host, endpoint.hostVeth)) netlink::deleteLink(host, endpoint.hostVeth);
    // END SOLUTION
}

}  // namespace mydocker::network
