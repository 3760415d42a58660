// The run pipeline: carries out one RunConfig, from the first step to the teardown.
// Part of the driver, compiled per lab: lab N runs the steps of labs 1..N.
#pragma once

#include "mydocker/config.hpp"
#include "mydocker/rootfs.hpp"

namespace mydocker::driver {

/// Runs a container in the foreground and returns docker run's exit code for it.
/// @throws Error (bad state, a failed step, Interrupted) once everything done is undone
int runContainer(const RunConfig& config);

/// The child's side, in the new namespaces, once released: its steps, then exec CMD.
/// `root` is the container's root filesystem (lab 02: --rootfs; lab 05: the image's
/// layers), empty for the host's. Returns (the exit code) only if a step or the exec
/// failed, after sending the error over `reportFd`.
int childMain(const RunConfig& config, const rootfs::RootfsSpec& root, int reportFd);

}  // namespace mydocker::driver
