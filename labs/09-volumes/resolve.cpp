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

}  // namespace

UniqueFd openInRoot(int rootFd, const std::string& path, TargetKind kind) {
    // Hints:
    // - Walk one component at a time, each prefix resolved from the root by the kernel. A
    //   missing component is made in the directory its parent resolved to (an fd, not a
    //   path), then resolved again the same way.
    // - Still missing: a symlink to nowhere, which a volume must not be made through.
    todo("TODO (lab 09): open the target resolved inside the root (openat2, RESOLVE_IN_ROOT), making what is missing", rootFd, path, kind);
}

}  // namespace mydocker::volumes
