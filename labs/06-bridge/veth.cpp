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
    // Hints:
    // - Hints on the order: the peer is created directly in the container's namespace
    //   (netlink's IFLA_NET_NS_PID), never on the host, where a link named eth0 exists.
    //   The host end takes the bridge's MTU: a port with a smaller MTU than its bridge
    //   would lower the bridge's. A route needs its gateway reachable: the address first.
    // - A socket opened in the container's namespace speaks to that namespace only.
    todo("TODO (lab 06): the veth pair (its peer made in the container's netns as eth0), the host end on the bridge and up; inside: MAC, address, lo and eth0 up, default route", endpoint);
}

void disconnectContainer(const Endpoint& endpoint) {
    // Hint: Deleting one end of a veth pair deletes the other. And when the container's
    // namespace dies (its last process exits), the kernel deletes its eth0, and the
    // host end with it: then there is nothing left to do.
    todo("TODO (lab 06): delete the host's end of the veth pair, if it is still there", endpoint);
}

}  // namespace mydocker::network
