// Lab 02: check --rootfs in the parent, before anything is created, so that bad
// input is one error line and leaves nothing behind.
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include <fmt/format.h>

#include "mydocker/error.hpp"
#include "mydocker/rootfs.hpp"

namespace mydocker::rootfs {

void validateRootfs(const std::string& dir) {
    // BEGIN SOLUTION: todo("lab02: TODO check --rootfs (an absolute path to an existing directory)", dir);
    const auto invalid = [&](std::string_view why) {
        return UsageError(fmt::format("invalid --rootfs \"{}\" ({})", dir, why));
    };
    // A relative path would depend on where the runtime happens to be started.
    if (dir.empty() || dir.front() != '/') throw invalid("must be an absolute path");

    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) {
        const int err = errno;
        if (err == ENOENT) throw invalid("no such directory");
        if (err == ENOTDIR) throw invalid("not a directory");
        throw invalid(std::strerror(err));
    }
    if (!S_ISDIR(st.st_mode)) throw invalid("not a directory");

    // The host's own root would give the container the whole host: refuse it.
    struct stat hostRoot {};
    if (::stat("/", &hostRoot) != 0) throw SysError("stat", "/");
    if (st.st_dev == hostRoot.st_dev && st.st_ino == hostRoot.st_ino) {
        throw invalid("is the host's root directory");
    }
    // END SOLUTION
}

}  // namespace mydocker::rootfs
