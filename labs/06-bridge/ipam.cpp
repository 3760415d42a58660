// Lab 06: the address allocator (IPAM) of a network, as a bitmap of its subnet.
//
// The driver calls these under the network's lock, with the addresses its record says
// are taken; it records the address it got before it lets go of the lock, so that 20
// containers started at once get 20 addresses.
#include <set>

#include "mydocker/error.hpp"
#include "mydocker/network.hpp"

namespace mydocker::network {

AddressBitmap addressBitmap(const Subnet& subnet, Ipv4 gateway, const std::set<Ipv4>& taken) {
    // Hint: Bit i is the address network + i. The first and the last address of a subnet are
    // not a host's (the network itself, and the broadcast address), and the gateway is
    // the bridge's: no container may have any of them.
    todo("TODO (lab 06): the subnet's bitmap: the network address, the gateway, the broadcast address and every taken address set", subnet, gateway, taken);
}

std::optional<Ipv4> firstFreeAddress(const Subnet& subnet, const AddressBitmap& bitmap) {
    todo("TODO (lab 06): the lowest address whose bit is clear, nothing if the subnet is full", subnet, bitmap);
}

}  // namespace mydocker::network
