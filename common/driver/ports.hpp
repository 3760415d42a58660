// Lab 07 in the driver: `-p` checked before anything is made, and the pipeline's step
// "publish ports: rules" around the lab's contract (mydocker/portmap.hpp): the runtime's
// DNAT chain and its jumps, the check that a host port is free, the host-wide lock.
#pragma once

#include <string>
#include <vector>

#include "mydocker/portmap.hpp"
#include "network.hpp"

namespace mydocker::driver {

/// Checks the `-p` values of a run (each parsed by the lab) before anything is made:
/// only on a bridge network, no host port twice, every host port free (checkPortsFree).
/// @throws UsageError naming the value and what is wrong
std::vector<portmap::PortMapping> checkPublishFlags(const std::vector<std::string>& values,
                                                    NetMode mode);

/// Throws UsageError unless every host port of `mappings` is free: published by no
/// container (the runtime's DNAT chain, whatever the --root, is the host's record of
/// them) and bound by no program (bind(2) on HOSTIP:HOSTPORT succeeds).
void checkPortsFree(const std::vector<portmap::PortMapping>& mappings);

/// The container whose ports are published: container `id` at `endpoint`.
portmap::Target portTarget(const std::string& id, const network::Endpoint& endpoint);

/// The step "publish ports: rules": under the host-wide lock, the DNAT chain and its jumps
/// from PREROUTING and OUTPUT, the ports checked free again (another runtime may have taken
/// one since the flags were checked), then portmap::publishPorts().
void publishContainerPorts(const std::vector<portmap::PortMapping>& mappings,
                           const portmap::Target& target);

/// Its undo: portmap::unpublishPorts(), and the DNAT chain and its jumps once no port of
/// any container is left in it.
void unpublishContainerPorts(const std::vector<portmap::PortMapping>& mappings,
                             const portmap::Target& target);

/// The sweep's undo for a container whose runtime was killed: every rule tagged
/// `mydocker:<id>` in the runtime's chains, found by its comment.
void removePortRulesOf(const std::string& id);

}  // namespace mydocker::driver
