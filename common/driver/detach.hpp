// Lab 10: `run -d`, the command line's side and the monitor's (detach.cpp).
#pragma once

#include "mydocker/config.hpp"

namespace mydocker::driver {

/// Starts the container under a monitor of its own (runtime::startMonitor) and returns
/// once CMD runs, printing its full id, or throws the error of its start.
/// @throws Error as a foreground run would for the same start (exit code included)
int runDetached(const RunConfig& config);

}  // namespace mydocker::driver
