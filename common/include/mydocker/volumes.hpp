/// @file
/// @brief Lab 09 contract: volumes, a host directory or a named volume bind-mounted into
/// the container, safely.
///
/// `run -v SRC:CTRDIR[:ro|:rw]` makes SRC appear at CTRDIR in the container. SRC is an
/// absolute host path (created, mode 0755, if it is missing, as Docker does) or the name
/// of a *named volume*, a directory the runtime keeps under `<root>/volumes/NAME/_data`,
/// made on first use and filled then with what the container's root has at CTRDIR
/// (Docker's copy-up); it outlives every container that used it.
///
/// Three things make a bind mount safe, and each is a system call of the new mount API:
///
/// 1. **CTRDIR is resolved inside the container's root.** The image is not trusted: its
///    `/data` may be a symlink to `/etc`, or to `../../../etc`. Joined to the rootfs as a
///    string and given to mount(2), such a path is followed by the kernel *on the host*,
///    before pivot_root: the volume would cover the host's `/etc` (in the container's
///    namespace), and a missing directory made on the way would be made on the host.
///    openat2(2) with `RESOLVE_IN_ROOT` resolves the path as if the rootfs were `/`:
///    an absolute symlink starts again at the rootfs, `..` stops there. What is missing
///    is made through the directory fds so resolved, never through a path.
/// 2. **The mount is made through fds.** open_tree(2) with `OPEN_TREE_CLONE |
///    AT_RECURSIVE` makes a detached copy of the source and of every mount below it;
///    move_mount(2) attaches it onto the resolved target's fd. No path is looked up again
///    between the check and the mount.
/// 3. **Read-only is recursive.** `mount(MS_BIND | MS_RDONLY)` ignores `MS_RDONLY`, a
///    remount makes only the top mount read-only, and a tmpfs mounted below the source
///    stays writable. mount_setattr(2) with `AT_RECURSIVE` and `MOUNT_ATTR_RDONLY` on the
///    detached tree makes the whole tree read-only before anyone can see it.
///
/// The child does this in its own mount namespace (after lab 02's private propagation,
/// before pivot_root, while the host's source is reachable): the host's mount table never
/// changes, and the volumes go with the namespace when the container ends. What the
/// runtime removes afterwards is removed by removeAll(), which never crosses a mount.
///
/// The student writes parseVolume(), openInRoot(), cloneTree() and attachTree(); the
/// records of named volumes, `volume ls`, `volume rm`, the copy-up and mountVolumes()
/// (the order of the calls) are given.
///
/// Implemented in `labs/09-volumes/` (student) and `solutions/09-volumes/`.
/// Man pages: openat2(2), open_tree(2), move_mount(2), mount_setattr(2),
/// mount_namespaces(7), flock(2).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "mydocker/rootfs.hpp"
#include "mydocker/unique_fd.hpp"

namespace mydocker::volumes {

/// What the source of a volume is.
enum class SourceKind {
    hostPath,  ///< an absolute path on the host
    named,     ///< a named volume under `<root>/volumes/NAME/_data`
};

/// One `-v` value, parsed and checked (nothing on disk is looked at).
struct VolumeSpec {
    SourceKind kind = SourceKind::hostPath;  ///< a host path or a named volume
    std::string source;                      ///< the absolute host path, or the volume's name
    std::string target;                      ///< where it appears in the container, absolute
    bool readOnly = false;                   ///< `:ro`: the volume and every mount below it

    /// Equal when every field is (for tests).
    bool operator==(const VolumeSpec&) const = default;
};

/// Parses `SRC:CTRDIR[:ro|:rw]` (Docker's `-v`). SRC starting with `/` is a host path;
/// otherwise it must be a volume name (isVolumeName()). CTRDIR must be absolute and not
/// `/` (the root cannot be covered). The mode, if any, is `ro` or `rw`.
/// @throws UsageError naming the value and what is wrong with it
VolumeSpec parseVolume(std::string_view value);

/// Docker's rule for a volume's name: a letter or a digit, then at least one letter,
/// digit, underscore, dot or dash; no slash, so a name never leaves the volumes'
/// directory. Given.
bool isVolumeName(std::string_view name);

/// `<root>/volumes`. Given.
std::string volumesDir(const std::string& root);

/// `<root>/volumes/NAME`: the volume's record (a directory). Given.
std::string volumeDir(const std::string& root, const std::string& name);

/// `<root>/volumes/NAME/_data`: what is mounted in the container. Given.
std::string volumeDataDir(const std::string& root, const std::string& name);

/// A named volume held for use by a container: a shared flock(2) on the volume's
/// directory, for as long as the object (its fd) lives. `volume rm` takes the lock
/// exclusively, so it cannot remove a volume a container holds. Given.
class VolumeUse {
  public:
    /// Opens (making it if needed) and locks volume `name`. `created` tells whether this
    /// call made it: a start that fails removes what it made.
    /// @throws UsageError for a bad name; SysError if it cannot be made or locked
    VolumeUse(const std::string& root, const std::string& name);

    /// True when this call made the volume.
    bool created() const { return created_; }

    /// The volume's data directory, the source of the bind mount.
    const std::string& dataDir() const { return dataDir_; }

  private:
    UniqueFd lock_;
    bool created_ = false;
    std::string dataDir_;
};

/// The names of the volumes under `root`, sorted. Given.
std::vector<std::string> listVolumes(const std::string& root);

/// Removes volume `name` and its data: refused (nothing removed) while a container holds
/// it (VolumeUse), and never across a mount point. Given.
/// @throws UsageError if there is no such volume or it is in use
void removeVolume(const std::string& root, const std::string& name);

/// Copies the tree below the directory `from` into the directory `to` (Docker's
/// copy-up): regular files, directories, symlinks, device nodes and fifos, with their
/// modes and numeric owners. Both are fds; no path is followed. Given.
void copyTree(int from, int to);

/// What to make when a target does not exist in the container's root.
enum class TargetKind {
    directory,  ///< the source is a directory
    file,       ///< the source is a file: its mount point is an empty file
};

/// Opens `path` (absolute, in the container) resolved inside the root `rootFd` as if it
/// were `/`: openat2(2) with `RESOLVE_IN_ROOT`, so no symlink and no `..` leaves it.
/// Each missing component is made through the fd of its resolved parent: a directory
/// (0755), or for the last one a `kind` (an empty 0644 file for TargetKind::file).
/// @returns an `O_PATH` fd of what `path` names in the root
/// @throws SysError naming the call and the path
UniqueFd openInRoot(int rootFd, const std::string& path, TargetKind kind);

/// A detached copy of the mount tree at host path `source` and of every mount below it
/// (open_tree(2) with `OPEN_TREE_CLONE | AT_RECURSIVE`), read-only as a whole if
/// `readOnly` (mount_setattr(2) with `AT_RECURSIVE` and `MOUNT_ATTR_RDONLY`).
/// @throws SysError naming the call and the source
UniqueFd cloneTree(const std::string& source, bool readOnly);

/// Attaches the detached tree `tree` (cloneTree()) onto `target` (openInRoot()): one
/// move_mount(2) between two fds.
/// @throws SysError naming the call
void attachTree(const UniqueFd& tree, const UniqueFd& target);

/// The child's step (given): mounts each of `volumes` (RootfsSpec::volumes) into the
/// root at `rootfs`, in order: the source's tree cloned, the target opened in the root
/// (made if missing), a file onto a directory or a directory onto a file refused, a new
/// named volume filled from the target (copy-up), then the tree attached.
/// @throws UsageError when the types differ; SysError for a failed call
void mountVolumes(const std::string& rootfs, const std::vector<rootfs::BindMount>& volumes);

}  // namespace mydocker::volumes
