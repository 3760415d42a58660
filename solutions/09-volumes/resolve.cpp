// Lab 09: a volume's target, resolved inside the container's root.
//
// The root is the image's, and the image is not trusted: any component of the target may
// be a symlink, absolute (`/data -> /etc`) or relative (`-> ../../../etc`). The kernel
// resolves the path as if the root were `/`, and what is missing is made through the
// fd of its parent, so no path is ever looked up on the host's side of the root.
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "mydocker/error.hpp"
#include "mydocker/volumes.hpp"

namespace mydocker::volumes {
namespace {

// BEGIN SOLUTION
/// Modes of what is made for a mount point, as Docker makes them.
constexpr mode_t kMountPointDirMode = 0755;
constexpr mode_t kMountPointFileMode = 0644;

/// The components of `path`, without the empty ones ("//") and ".".
std::vector<std::string> components(const std::string& path) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (start <= path.size()) {
        const auto slash = path.find('/', start);
        const std::string part =
            path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
        if (!part.empty() && part != ".") parts.push_back(part);
        if (slash == std::string::npos) break;
        start = slash + 1;
    }
    return parts;
}

/// openat2(2) of `path` below `rootFd`, resolved as if `rootFd` were `/`; -1 and errno
/// on failure. glibc 2.36 has no wrapper: syscall(2).
int openResolvedInRoot(int rootFd, const std::string& path) {
    open_how how{};
    how.flags = O_PATH | O_CLOEXEC;
    // IN_ROOT: absolute symlinks and ".." stay inside. NO_MAGICLINKS: no /proc/self/fd/N
    // (a "magic" link) can jump to a file outside.
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    return static_cast<int>(::syscall(SYS_openat2, rootFd, path.c_str(), &how, sizeof how));
}

/// Makes the missing `name` in the directory `parentFd`: a directory, or an empty file.
void makeMissing(int parentFd, const std::string& name, bool asFile) {
    if (asFile) {
        // O_EXCL | O_NOFOLLOW: never open, let alone truncate, what is already there.
        const UniqueFd file(::openat(parentFd, name.c_str(),
                                     O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                                     kMountPointFileMode));
        if (!file && errno != EEXIST) throw SysError("openat", name);
        return;
    }
    if (::mkdirat(parentFd, name.c_str(), kMountPointDirMode) != 0 && errno != EEXIST) {
        throw SysError("mkdirat", name);
    }
}
// END SOLUTION

}  // namespace

UniqueFd openInRoot(int rootFd, const std::string& path, TargetKind kind) {
    // BEGIN SOLUTION: todo("TODO (lab 09): open the target resolved inside the root (openat2, RESOLVE_IN_ROOT), making what is missing", rootFd, path, kind);
    // Walk one component at a time, each prefix resolved from the root by the kernel. A
    // missing component is made in the directory its parent resolved to (an fd, not a
    // path), then resolved again the same way.
    UniqueFd current(openResolvedInRoot(rootFd, "/"));
    if (!current) throw SysError("openat2", "/");
    const std::vector<std::string> parts = components(path);
    std::string prefix;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        prefix += "/" + parts[i];
        UniqueFd next(openResolvedInRoot(rootFd, prefix));
        if (!next && errno == ENOENT) {
            const bool last = i + 1 == parts.size();
            makeMissing(current.get(), parts[i], last && kind == TargetKind::file);
            next.reset(openResolvedInRoot(rootFd, prefix));
        }
        // Still missing: a symlink to nowhere, which a volume must not be made through.
        if (!next) throw SysError("openat2", prefix);
        current = std::move(next);
    }
    return current;
    // END SOLUTION
}

}  // namespace mydocker::volumes
