// Lab 08: the cgroup freezer. A running container is frozen while its upper directory is
// copied, so that the layer is one moment of it, not files from before and after a write.
//
// The kernel stops every task of the cgroup where it can be stopped safely, and reports
// when all are: v2 in cgroup.events (Documentation/admin-guide/cgroup-v2.rst, "Core
// Interface Files"), v1 in freezer.state (cgroup-v1/freezer-subsystem.rst), which reads
// FREEZING until the last task is stopped.
#include <fmt/format.h>

#include <chrono>
#include <string>
#include <thread>

#include "mydocker/commit.hpp"
#include "mydocker/error.hpp"
#include "mydocker/file.hpp"

namespace mydocker::commit {
namespace {

/// How often freeze() asks the kernel whether the cgroup is frozen yet.
constexpr std::chrono::milliseconds kPollInterval{1};

/// The file that freezes and thaws the cgroup, and its two values.
struct FreezerFile {
    const char* name;
    const char* frozen;
    const char* thawed;
};
constexpr FreezerFile kV2File{"cgroup.freeze", "1", "0"};
constexpr FreezerFile kV1File{"freezer.state", "FROZEN", "THAWED"};

const FreezerFile& fileOf(const Freezer& freezer) {
    return freezer.version == 1 ? kV1File : kV2File;
}

}  // namespace

bool isFrozen(const Freezer& freezer) {
    if (freezer.version == 1) return readLine(joinPath(freezer.dir, "freezer.state")) == "FROZEN";
    // cgroup.events: "populated 1\nfrozen 1\n".
    const std::string events = readFile(joinPath(freezer.dir, "cgroup.events"));
    return events.find("frozen 1") != std::string::npos;
}

void freeze(const Freezer& freezer) {
    // Hints:
    // - The write only asks: tasks stop one by one, at their next return to user space.
    // - v1 may stay FREEZING if a task was busy in the kernel: asking again retries it.
    todo("TODO (lab 08): freeze the cgroup (v2: cgroup.freeze, v1: freezer.state) and wait, bounded by kFreezeTimeout, until the kernel says it is frozen", freezer, kPollInterval, fileOf(freezer));
}

void thaw(const Freezer& freezer) {
    todo("TODO (lab 08): thaw the cgroup: write the freezer file's thawed value", freezer, fileOf(freezer));
}

}  // namespace mydocker::commit
