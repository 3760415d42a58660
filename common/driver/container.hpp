// The run pipeline: carries out one RunConfig, from clone to teardown.
// Part of the driver, compiled with MYDOCKER_LAB: lab N runs the steps of labs 1..N.
#pragma once

#include "mydocker/config.hpp"

namespace mydocker::driver {

/// Runs a container in the foreground and returns docker run's exit code for it.
int runContainer(const RunConfig& config);

}  // namespace mydocker::driver
