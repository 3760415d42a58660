/// @file
/// @brief The device nodes every container's /dev must have (lab 02), as the tests expect them.
#pragma once

#include <sys/types.h>

namespace mydocker::test {

/// A device node every container gets: its path, major and minor (the kernel's devices.txt).
struct Device {
    const char* path;  ///< where it is in the container
    unsigned major;    ///< its major number
    unsigned minor;    ///< its minor number
};

/// null, zero, full, random, urandom and tty, with their numbers.
inline constexpr Device kDevices[] = {
    {"/dev/null", 1, 3},   {"/dev/zero", 1, 5},    {"/dev/full", 1, 7},
    {"/dev/random", 1, 8}, {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0},
};

/// Everyone may read and write them.
inline constexpr mode_t kDeviceMode = 0666;

}  // namespace mydocker::test
