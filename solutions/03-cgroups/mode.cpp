// Lab 03: which of the three cgroup modes the host runs, told by filesystem types.
#include <linux/magic.h>
#include <sys/statfs.h>

#include <fmt/format.h>

#include "mydocker/cgroups.hpp"
#include "mydocker/error.hpp"
#include "mydocker/file.hpp"

namespace mydocker::cgroups {

// BEGIN SOLUTION
namespace {

/// The filesystem type of `path` as statfs(2) reports it.
auto filesystemType(const std::string& path) {
    struct statfs fs {};
    if (::statfs(path.c_str(), &fs) != 0) throw SysError("statfs", path);
    return fs.f_type;
}

}  // namespace
// END SOLUTION

std::string_view modeName(Mode mode) {
    switch (mode) {
        case Mode::legacy: return "legacy";
        case Mode::hybrid: return "hybrid";
        case Mode::unified: return "unified";
    }
    return "unknown";
}

Mode detectMode(const std::string& root) {
    // BEGIN SOLUTION: todo("TODO (lab 03): detect the cgroup mode with statfs(2) of the root and root/unified", root);
    // statfs(2) tells a path's filesystem by its f_type, a magic number of
    // <linux/magic.h>: CGROUP2_SUPER_MAGIC, TMPFS_MAGIC.
    const auto rootType = filesystemType(root);
    // v2 only: the root itself is the one cgroup2 hierarchy.
    if (rootType == CGROUP2_SUPER_MAGIC) return Mode::unified;
    // Otherwise the root is a tmpfs holding one mount per v1 hierarchy, and maybe a
    // cgroup2 mount at unified/ (systemd's hybrid layout). Path names alone would lie:
    // a plain directory called "unified" is not a cgroup2 hierarchy.
    if (rootType == TMPFS_MAGIC) {
        const std::string unified = joinPath(root, "unified");
        if (isDirectory(unified) && filesystemType(unified) == CGROUP2_SUPER_MAGIC) {
            return Mode::hybrid;
        }
        return Mode::legacy;
    }
    throw Error(
        fmt::format("no cgroup filesystem at {} (statfs type {:#x}: neither cgroup2 nor tmpfs)",
                    root, static_cast<unsigned long>(rootType)));
    // END SOLUTION
}

Mode hostMode() {
    // The mode cannot change while the runtime runs: detect it once (crun caches it too).
    static const Mode mode = detectMode(kDefaultRoot);
    return mode;
}

}  // namespace mydocker::cgroups
