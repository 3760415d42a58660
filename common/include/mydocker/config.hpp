/// @file
/// @brief RunConfig: everything `run` was asked to do, as plain data.
///
/// The driver fills it from the command line (each lab's flags parsed by that lab's
/// own code), then the run pipeline (container.hpp) carries it out.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "mydocker/portmap.hpp"
#include "mydocker/volumes.hpp"

namespace mydocker {

/// The resource limits of labs 03 and 04, already parsed and checked. Unset means no limit.
struct ResourceLimits {
    std::optional<double> cpus;                ///< --cpus: CPUs worth of time per period
    std::optional<std::uint64_t> cpuShares;    ///< --cpu-shares: v1 weight (2..262144)
    std::optional<std::string> cpusetCpus;     ///< --cpuset-cpus: a checked CPU list ("0-1,3")
    std::optional<std::int64_t> pidsLimit;     ///< --pids-limit: most tasks at once
    std::optional<std::uint64_t> memoryBytes;  ///< -m/--memory: bytes of RAM, swap excluded

    /// True when at least one limit is set.
    bool any() const { return cpus || cpuShares || cpusetCpus || pidsLimit || memoryBytes; }
};

/// One `run`, as asked for on the command line.
struct RunConfig {
    std::string root;                  ///< --root: the runtime's state directory
    std::string id;                    ///< the container's id: 64 hex digits
    std::string hostname;              ///< --hostname, or the short id by default
    std::string rootfs;                ///< --rootfs (lab 02): empty means the host's root
    std::string image;                 ///< IMAGE (lab 05), "busybox:latest"; empty with --rootfs
    ResourceLimits limits;             ///< labs 03 and 04
    std::vector<std::string> command;  ///< CMD and its arguments
    std::vector<std::string> env;      ///< the container's environment, KEY=VALUE
    std::string workingDir;            ///< CMD's working directory (lab 05: the image's), "" = /
    bool cgroupNamespace = false;      ///< its own cgroup namespace (lab 03, on v2 hosts)
    std::string net = "bridge";        ///< --net (lab 06): bridge, none, host or a network's name
    std::vector<portmap::PortMapping> ports;   ///< -p (lab 07): the ports to publish, checked
    std::vector<volumes::VolumeSpec> volumes;  ///< -v (lab 09), in the command line's order
    bool detach = false;      ///< -d (lab 10): a monitor holds it, `run` returns at once
    std::string name;         ///< --name (lab 10), checked; "" for none
    bool autoRemove = false;  ///< --rm (lab 10): its record goes when it exits
    bool tty = false;          ///< -t (lab 10): CMD on a pseudo-terminal of the container's
    bool interactive = false;  ///< -i (lab 10): with -t, the caller's input goes to it
};

/// The first 12 hex digits of an id, as `docker ps` shows it.
inline std::string shortId(const std::string& id) {
    return id.substr(0, 12);
}

}  // namespace mydocker
