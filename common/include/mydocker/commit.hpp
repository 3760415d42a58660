/// @file
/// @brief Lab 08 contract: a container becomes an image. Its upper directory, the diff
/// overlayfs kept of everything it wrote, becomes one more layer on its image's stack.
///
/// `commit CONTAINER IMAGE` does, in order:
/// @code
/// freeze the container's cgroup         freeze()     (a running container: no write
///                                                     lands half-way through the copy)
/// copy <container>/upper into a new     copyUpperDir()  (the diff walk: this lab)
///   directory of the store's tmp/
/// thaw the container                    thaw()       (always, even if the copy failed)
/// hash the new layer as a tar, rename   given: image::commitLayer()
///   it into layers/<digest>, record
///   the new image (parent's layers + 1)
/// @endcode
///
/// The upper directory is already in the store's format, because both are overlay's own
/// (overlay.hpp): a deleted file is a character device 0/0 (a *whiteout*), a directory
/// deleted and made again is *opaque* (`trusted.overlay.opaque=y`). The walk copies it
/// entry by entry, exactly: owners, modes (setuid too), hard links, symlinks, devices,
/// fifos, mtimes and xattrs such as `security.capability` (a file capability). Three
/// things it must not copy:
///
/// - overlay's private bookkeeping: overlayfs marks what it copied up with xattrs that
///   only make sense for this one mount (`trusted.overlay.origin` holds a file handle of
///   the lower file, `impure`, `redirect`, `nlink`, `metacopy`, ...). In a layer of an
///   image they would point at nothing, or at the wrong thing. Of the
///   `trusted.overlay.NAME` xattrs only `opaque` is kept: it is the layer's own
///   meaning (keepsXattr());
/// - the runtime's mount points: `/etc/hosts` and `/etc/resolv.conf` are bind mounts of
///   files the runtime generated (lab 06); overlay made an empty file in the upper dir to
///   mount them on. They are the runtime's, not the image's (nor are volumes' targets,
///   lab 09). The container's state lists them (`mountPoints`);
/// - anything else than what is below `upper`: the walk never follows a symlink.
///
/// Implemented in `labs/08-commit/` (student) and `solutions/08-commit/`.
/// Man pages: openat(2), fstatat(2), mknodat(2), linkat(2), symlinkat(2), readlinkat(2),
/// fchownat(2), fchmodat(2), utimensat(2), listxattr(2), getxattr(2), setxattr(2),
/// xattr(7), capabilities(7) ("File capabilities"), copy_file_range(2); the kernel's
/// Documentation/filesystems/overlayfs.rst and Documentation/admin-guide/cgroup-v2.rst
/// ("Core Interface Files": cgroup.freeze), cgroup-v1/freezer-subsystem.rst.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace mydocker::commit {

// --- the diff walk -------------------------------------------------------------------------

/// True when xattr `name` of an entry of the upper directory belongs in a layer: every
/// xattr (`security.capability`, user xattrs, ACLs) but the private ones of overlay,
/// `trusted.overlay.NAME` for any NAME other than `opaque`. Pure.
bool keepsXattr(std::string_view name);

/// Copies the xattrs that keepsXattr() keeps of `name` in the directory `fromDirFd` onto
/// `name` in `toDirFd` (a symlink's own, not its target's). Call it after the owner is
/// set: chown(2) clears `security.capability`.
/// @throws SysError naming the call and the entry
void copyXattrs(int fromDirFd, int toDirFd, const std::string& name);

/// The diff walk: copies the upper directory `upperFd` into the empty directory
/// `layerFd`, entry by entry, in the store's format:
/// - directories, regular files (their data), symlinks, character and block devices,
///   fifos, with their owner, mode (setuid, setgid, sticky bits too) and mtime;
/// - whiteouts (character devices 0/0) as they are; opaque directories with their
///   `trusted.overlay.opaque`; other xattrs as keepsXattr() says;
/// - hard links as hard links (two names of one inode in `upper` are two names of one
///   inode in the layer);
/// - without the entries whose path, relative to `upper`, is in `excluded` ("etc/hosts"),
///   nor anything below them.
/// Never follows a symlink: every entry is opened relative to its parent's descriptor,
/// with O_NOFOLLOW. A socket is skipped (it means nothing without its process).
/// @param upperFd the container's upper directory, open
/// @param layerFd the new layer's directory, open and empty
/// @param excluded paths relative to the container's root, without a leading "/"
/// @throws SysError naming the call and the entry
void copyUpperDir(int upperFd, int layerFd, const std::vector<std::string>& excluded);

// --- given: plumbing for the walk ---------------------------------------------------------------

/// Copies the data of the regular file `fromFd` into `toFd` (copy_file_range(2), read(2)
/// and write(2) where the filesystems cannot), from both files' current offsets.
/// @param fromFd the file to read, open for reading
/// @param toFd the file to write, open for writing
/// @param name names the file in errors
/// @throws SysError naming the call
void copyFileData(int fromFd, int toFd, const std::string& name);

/// "/proc/self/fd/<dirFd>/<name>": a path to `name` in an open directory, for the calls
/// that take no directory descriptor (lgetxattr(2), llistxattr(2), lsetxattr(2)). The
/// kernel resolves the directory from the descriptor, not from a path someone could
/// change meanwhile; with the l* calls, `name` itself is not followed if a symlink.
std::string pathIn(int dirFd, const std::string& name);

// --- the freezer
// ----------------------------------------------------------------------------------

/// A container's cgroup as the freezer sees it.
struct Freezer {
    int version = 2;  ///< 2: `dir` has cgroup.freeze and cgroup.events; 1: freezer.state
    std::string dir;  ///< the cgroup's directory (v1: in the freezer hierarchy)
};

/// How long freeze() waits for every task to stop before it gives up.
inline constexpr std::chrono::milliseconds kFreezeTimeout{5000};

/// Freezes every process of the cgroup and returns once the kernel says they all are:
/// v2 writes `1` to cgroup.freeze and waits for `frozen 1` in cgroup.events; v1 writes
/// `FROZEN` to freezer.state and waits until it reads `FROZEN` (not `FREEZING`).
/// @throws SysError if a file cannot be written or read; Error if the cgroup is not frozen
///         within kFreezeTimeout (the caller thaws it)
void freeze(const Freezer& freezer);

/// Lets the cgroup's processes run again: v2 writes `0` to cgroup.freeze, v1 `THAWED` to
/// freezer.state. Safe on a cgroup that is not frozen.
/// @throws SysError if the file cannot be written
void thaw(const Freezer& freezer);

/// True when the kernel reports the cgroup frozen (v2: `frozen 1` in cgroup.events; v1:
/// freezer.state reads `FROZEN`). Given.
/// @throws SysError if the file cannot be read
bool isFrozen(const Freezer& freezer);

}  // namespace mydocker::commit
