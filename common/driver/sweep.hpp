// Sweeping up after runtimes killed with SIGKILL (sweep.cpp).
#pragma once

#include <string>

namespace mydocker::driver {

/// Finds the containers under `root` whose monitor process is gone (state.json's
/// monitorPid and monitorStartTime) and undoes what they left: PID 1, the cgroup (lab 03),
/// and the record if CMD never ran; a container that ran is marked exited (137).
/// Problems with one container are logged; the others are still swept.
void sweepDeadContainers(const std::string& root);

}  // namespace mydocker::driver
