// Lab 09: a volume mounted through fds, and read-only all the way down.
//
// The new mount API (Linux 5.2, mount_setattr 5.12) works on mounts as fds: open_tree(2)
// makes a detached copy of a mount tree, mount_setattr(2) changes its flags as a whole,
// move_mount(2) attaches it where an fd points. Between the check of the target and the
// mount, no path is looked up again. glibc 2.36 declares all three in <sys/mount.h>.
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "mydocker/error.hpp"
#include "mydocker/file.hpp"
#include "mydocker/log.hpp"
#include "mydocker/volumes.hpp"

namespace mydocker::volumes {

UniqueFd cloneTree(const std::string& source, bool readOnly) {
    // Hints:
    // - OPEN_TREE_CLONE | AT_RECURSIVE is `mount --rbind` into a detached tree: the
    //   source and every mount below it, visible nowhere until it is attached.
    // - MS_BIND | MS_RDONLY is ignored, and a remount covers the top mount only: one
    //   mount_setattr(2) with AT_RECURSIVE makes every mount of the tree read-only,
    //   before the container can see any of them.
    todo("TODO (lab 09): clone the source's mount tree (open_tree), read-only as a whole for :ro (mount_setattr)", source, readOnly);
}

void attachTree(const UniqueFd& tree, const UniqueFd& target) {
    // Hint: Both ends are fds ("" with the EMPTY_PATH flags): the mount lands on the inode
    // openInRoot() resolved, whatever happened to the paths since.
    todo("TODO (lab 09): attach the detached tree onto the target's fd (move_mount)", tree, target);
}

// Given: the order of the calls for each volume.
namespace {

/// True when `fd` is a directory.
bool isDirectoryFd(const UniqueFd& fd, const std::string& what) {
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) throw SysError("fstat", what);
    return S_ISDIR(st.st_mode);
}

/// Opens the directory `fd` (an O_PATH fd) for reading.
UniqueFd reopenDirectory(const UniqueFd& fd, const std::string& what) {
    UniqueFd dir(::openat(fd.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir) throw SysError("openat", what);
    return dir;
}

/// Docker's copy-up: a named volume that is empty gets what the root has at the target.
void copyUpIfEmpty(const rootfs::BindMount& volume, const UniqueFd& target) {
    // The volume's directory is the runtime's own (<root>/volumes/NAME/_data): a path.
    if (!listDir(volume.source).empty()) return;
    const UniqueFd data(::open(volume.source.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!data) throw SysError("open", volume.source);
    copyTree(reopenDirectory(target, volume.target).get(), data.get());
}

void mountVolume(int rootFd, const rootfs::BindMount& volume) {
    const UniqueFd tree = cloneTree(volume.source, volume.readOnly);
    const UniqueFd target =
        openInRoot(rootFd, volume.target, volume.isFile ? TargetKind::file : TargetKind::directory);
    const bool targetIsDir = isDirectoryFd(target, volume.target);
    if (volume.isFile && targetIsDir) {
        throw UsageError(
            fmt::format("cannot mount the file {} onto the directory {} (a file "
                        "can only cover a file)",
                        quoted(volume.source), quoted(volume.target)));
    }
    if (!volume.isFile && !targetIsDir) {
        throw UsageError(
            fmt::format("cannot mount the directory {} onto {} (not a directory "
                        "in the container)",
                        quoted(volume.source), quoted(volume.target)));
    }
    if (volume.copyUp) copyUpIfEmpty(volume, target);
    attachTree(tree, target);
}

}  // namespace

void mountVolumes(const std::string& rootfs, const std::vector<rootfs::BindMount>& volumes) {
    const UniqueFd root(::open(rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root) throw SysError("open", rootfs);
    for (const rootfs::BindMount& volume : volumes) {
        log::debug("volume: {} on {}{}", volume.source, volume.target,
                   volume.readOnly ? " (read-only)" : "");
        withContext(fmt::format("mounting the volume {} on {}", quoted(volume.source),
                                quoted(volume.target)),
                    [&] { mountVolume(root.get(), volume); });
    }
}

}  // namespace mydocker::volumes
