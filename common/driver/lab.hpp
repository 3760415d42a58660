// Which lab this executable is: the driver is compiled once per lab, and the lab N
// executable has the verbs, flags and pipeline steps of labs 1..N.
//
// Where a step or a flag belongs to a lab, the code says so where it stands:
//
//     if constexpr (lab >= 3) steps.run("create the cgroup", ...);
//
// A discarded `if constexpr` branch generates no code, so lab 01's executable never
// refers to lab 03's functions, which it does not link.
#pragma once

#ifndef MYDOCKER_LAB
#error "the driver is compiled once per lab, with MYDOCKER_LAB set to its number"
#endif

#include <string>

namespace mydocker::driver {

/// The number of the lab this executable is built for (1..10).
inline constexpr int lab = MYDOCKER_LAB;

/// "lab04": the program's name in its messages.
std::string programName();

/// Exit code when the runtime itself fails or the input is invalid (docker run's).
inline constexpr int kRuntimeFailure = 125;

}  // namespace mydocker::driver
