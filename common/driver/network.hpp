// Lab 06 in the driver: networks (the `network` verbs, network.cpp) and what the run
// pipeline needs of them: an address from a network's IPAM, the endpoint to wire, the
// generated /etc files. Given code around the lab's contract (mydocker/network.hpp).
#pragma once

#include <optional>
#include <string>

#include "mydocker/network.hpp"
#include "mydocker/rootfs.hpp"
#include "mydocker/unique_fd.hpp"

namespace mydocker::driver {

/// The lock on what every runtime on the host shares, whatever its --root: the
/// runtime's chains and their jumps, ip_forward, the choice of a subnet, the published
/// ports (an exclusive flock(2) on the ip_forward sysctl, held while it lives).
class HostLock {
  public:
    /// Waits for the lock.
    HostLock();

  private:
    UniqueFd fd_;
};

/// How a container is networked (`--net`).
enum class NetMode {
    bridge,  ///< on a network: a veth pair to its bridge (the default, network `bridge`)
    none,    ///< a namespace of its own with `lo` only
    host,    ///< the host's namespace
};

/// `--net` as checked: the mode and, for `bridge`, the network's name.
struct NetChoice {
    NetMode mode = NetMode::bridge;  ///< see NetMode
    std::string network = "bridge";  ///< the network (NetMode::bridge only)
};

/// The mode of a checked `--net` value.
inline NetMode netModeOf(const std::string& net) {
    if (net == "none") return NetMode::none;
    if (net == "host") return NetMode::host;
    return NetMode::bridge;
}

/// Checks `--net VALUE` before anything is created: `none`, `host`, `bridge` (the default
/// network, made on first use) or the name of an existing network.
/// @throws UsageError for an unknown network
NetChoice checkNetFlag(const std::string& root, const std::string& value);

/// A container's place on a network, once its address is allocated.
struct Attachment {
    std::string network;         ///< the network's name
    network::Endpoint endpoint;  ///< what lab 06 wires (pid filled in once cloned)
};

/// Allocates an address for container `id` on network `name` (under the networks'
/// lock), making the default network `bridge` first if it does not exist yet.
/// @throws Error `no free address` when the subnet is full
Attachment allocateAddress(const std::string& root, const std::string& name, const std::string& id);

/// Gives back every address container `id` holds (on any network). Safe to call twice.
void releaseAddresses(const std::string& root, const std::string& id);

/// Writes the container's /etc/hosts and /etc/resolv.conf into its directory and adds
/// them to its root's spec as bind mounts (so lab 02's plan mounts them).
/// `attachment` is null for `--net none` and `--net host` (no address of its own).
void addGeneratedEtcFiles(const std::string& root, const std::string& id,
                          const std::string& hostname, NetMode mode, const Attachment* attachment,
                          rootfs::RootfsSpec& spec);

/// Brings `lo` up in the network namespace of `pid` (`--net none`).
void bringUpLoopback(pid_t pid);

/// The host's end of container `id`'s veth pair.
std::string hostVethName(const std::string& id);

/// Deletes the host's end of container `id`'s veth pair if it is there (the sweep).
void removeHostVeth(const std::string& id);

}  // namespace mydocker::driver
