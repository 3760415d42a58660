// Sweeping up after a runtime killed with SIGKILL: it could not run its teardown, and
// nothing else will. Every command first looks for containers whose monitor (the
// process that holds their teardown) is gone, and undoes what they left.
//
// The closures of a Teardown died with the process, so this works from the record
// alone: each lab's resource has a name derived from the container's id (its cgroup is
// `mydocker/<id>`), and the sweep undoes by name what the lab would have undone.
#include "sweep.hpp"

#include <fmt/format.h>
#include <signal.h>

#include "lab.hpp"
#include "layers.hpp"
#include "mydocker/cgroups.hpp"
#include "mydocker/error.hpp"
#include "mydocker/file.hpp"
#include "mydocker/log.hpp"
#include "mydocker/state.hpp"
#include "network.hpp"
#include "ports.hpp"

namespace mydocker::driver {
namespace {

/// PID 1 of a container whose runtime died gets SIGKILL from the kernel (the child's
/// PR_SET_PDEATHSIG): the record says so, as docker shows a killed container.
constexpr int kKilled = 128 + SIGKILL;

/// Undoes what the container `state` left, in the pipeline's reverse order.
void sweep(const std::string& root, ContainerState& state) {
    // PID 1 died with its runtime; make sure (by pid and start time, never a reused pid).
    if (processIsAlive(state.pid, state.pidStartTime)) ::kill(state.pid, SIGKILL);
    if constexpr (lab >= 3) {
        const cgroups::Mode mode = cgroups::hostMode();
        const auto cgroup = cgroups::cgroupFor(
            mode, state.id, cgroups::kDefaultRoot,
            mode == cgroups::Mode::unified ? cgroups::ControllerMounts{} : cgroups::hostV1Mounts());
        cgroup->destroy();
    }
    if constexpr (lab >= 5) removeContainerLayers(root, state.id);  // its upper dir too
    if constexpr (lab >= 7) removePortRulesOf(state.id);            // found by their comment
    if constexpr (lab >= 6) {
        // Its veth pair dies with its namespace (soon after PID 1): delete it now, and give
        // back its address, which is only in the records.
        removeHostVeth(state.id);
        releaseAddresses(root, state.id);
    }
    if (state.startedAt.empty() || state.autoRemove) {
        // CMD never ran: the container is undone whole, as a failed start would be; or
        // it ran with --rm (lab 10): its monitor would have removed it, with its log.
        removeRecord(root, state.id);
        return;
    }
    state.status = "exited";
    state.exitCode = kKilled;
    state.finishedAt = nowRfc3339();
    saveState(root, state);
}

}  // namespace

void sweepDeadContainers(const std::string& root) {
    for (const std::string& id : liveContainers(root)) {
        try {
            if (pathExists(statePath(root, id))) {
                ContainerState state = loadState(root, id);
                if (state.status != "exited") {
                    if (processIsAlive(state.monitorPid, state.monitorStartTime)) continue;
                    log::info("container {}: its runtime is gone; undoing what it left",
                              shortId(id));
                    sweep(root, state);
                }
            }
            unmarkLive(root, id);
        } catch (const Error& e) {
            // One broken record must not stop every command: say so, go on.
            log::warn("container {}: {}", shortId(id), e.what());
        }
    }
}

}  // namespace mydocker::driver
