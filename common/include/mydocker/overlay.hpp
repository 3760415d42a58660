/// @file
/// @brief Lab 05 contract: image layers on disk in overlay's format, and the overlay
/// mount that stacks them into a container's root.
///
/// An image is a stack of layers, each a tar of what changed. `import` extracts every
/// layer once into its own directory of the store (image.hpp, given), through the walk
/// of this lab, extractLayer(): it creates each entry of the tar below the layer's
/// directory, exactly (numeric owners, setuid/setgid/sticky modes, hard links, device
/// nodes, fifos, xattrs such as `security.capability`, mtimes), and refuses what a
/// hostile tar tries: absolute paths, `..`, writing through a symlink, a hard link to a
/// file outside the layer.
///
/// A layer tar says "this file was deleted" AUFS's way, with a marker file, and overlayfs
/// reads its own markers (Documentation/filesystems/overlayfs.rst, "whiteouts and opaque
/// directories"), so the walk converts them:
///
/// | in the tar            | in the layer's directory                                     |
/// |-----------------------|--------------------------------------------------------------|
/// | `dir/.wh.NAME`        | `dir/NAME`: a character device 0/0, a *whiteout*             |
/// | `dir/.wh..wh..opq`    | `dir` has the xattr `trusted.overlay.opaque=y`: *opaque*     |
/// | `dir/.wh..wh.<other>` | nothing (AUFS's own bookkeeping)                             |
///
/// A container's root is then one overlay mount, made by the child in its own mount
/// namespace in place of lab 02's bind mount of the rootfs (RootfsSpec::rootMount):
///
/// @code
/// mount("overlay", "<container>/rootfs", "overlay", 0,
///       "lowerdir=TOP:...:BOTTOM,upperdir=<container>/upper,workdir=<container>/work,"
///       "redirect_dir=off,index=off,metacopy=off")
/// @endcode
///
/// Reads find a file in the topmost layer that has it; the first write to a file of a
/// lower layer copies it up to `upperdir` (copy-on-write); a deletion leaves a whiteout
/// in `upperdir`. The layers themselves never change, so every container of an image
/// shares them, page cache included.
///
/// Implemented in `labs/05-overlay/` (student) and `solutions/05-overlay/`.
/// Man pages: openat2(2), mknod(2), symlink(2), link(2), chown(2), chmod(2), xattr(7),
/// utimensat(2), capabilities(7) (file capabilities), mount(2); the kernel's
/// Documentation/filesystems/overlayfs.rst; libarchive's archive_read(3) and archive_entry(3).
#pragma once

#include <sys/types.h>
#include <time.h>

#include <string>
#include <string_view>
#include <vector>

#include "mydocker/rootfs.hpp"

struct archive;
struct archive_entry;

namespace mydocker::overlay {

// --- the names in a layer tar ---------------------------------------------------------

/// Checks a tar entry's name and returns it in a canonical form: relative, without "."
/// or empty components, without a trailing slash: "./usr//bin/" is "usr/bin"; "." and
/// "./" are "", the layer's own directory.
/// @throws UsageError `unsafe path "<name>" (...)` for an absolute path or one with a
///         `..` component: a hostile tar's way out of the layer
std::string normalizeEntryPath(std::string_view name);

/// What an entry of a layer tar stands for, once its name is read AUFS's way.
enum class EntryRole {
    file,      ///< an ordinary entry: create it at `path`
    whiteout,  ///< `.wh.NAME`: NAME is deleted; `path` is NAME's path
    opaque,    ///< `.wh..wh..opq`: the directory `path` hides the lower layers' one
    ignored,   ///< another `.wh..wh.` entry: skip it
};

/// An entry's role and the path it acts on.
struct LayerPath {
    EntryRole role = EntryRole::file;  ///< what to do
    std::string path;                  ///< normalized, relative to the layer ("" is its root)

    /// Equal when both fields are (for tests).
    bool operator==(const LayerPath&) const = default;
};

/// Reads a tar entry's name: normalizeEntryPath(), then the whiteout conventions
/// ("etc/.wh.motd" is {whiteout, "etc/motd"}; "var/cache/.wh..wh..opq" is
/// {opaque, "var/cache"}). Pure.
/// @throws UsageError for an unsafe path, or a whiteout of "", "." or ".."
LayerPath classifyEntry(std::string_view name);

// --- overlay's own markers ---------------------------------------------------------------

/// The xattr that makes a directory opaque, and its value.
inline constexpr const char* kOpaqueXattr = "trusted.overlay.opaque";
/// The value of kOpaqueXattr on an opaque directory.
inline constexpr const char* kOpaqueValue = "y";
/// The prefix of every xattr overlayfs reads from its layers. A layer tar may not set
/// them itself (only `.wh..wh..opq` makes a directory opaque): the walk drops them.
inline constexpr std::string_view kOverlayXattrPrefix = "trusted.overlay.";

/// Creates overlay's whiteout for `name` in the directory `dirFd`: a character device
/// with device number 0/0 (and permission bits 0).
/// @throws SysError naming the call
void makeWhiteout(int dirFd, const std::string& name);

/// Marks the directory `dirFd` opaque: kOpaqueXattr = kOpaqueValue.
/// @throws SysError naming the call
void markOpaque(int dirFd);

// --- given: reading an entry (libarchive plumbing, not the lesson) ----------------------------

/// An entry's numeric owner, as the tar has it: never looked up by name.
struct EntryOwner {
    uid_t uid = 0;  ///< the owner's user id
    gid_t gid = 0;  ///< the owner's group id
};

/// The numeric owner of `entry`.
/// @throws UsageError if it is not a 32-bit id the kernel takes
EntryOwner entryOwner(archive_entry* entry);

/// An entry's times, ready for utimensat(2) and futimens(2).
struct EntryTimes {
    timespec value[2];  ///< the access time (the mtime if the tar has none), then the mtime
};

/// The times of `entry` (UTIME_OMIT for a time the tar does not have).
EntryTimes entryTimes(archive_entry* entry);

/// Writes the data of `entry`, the one `tar` has just read the header of, into the
/// regular file `fd`: block by block, leaving the holes of a sparse file as holes.
/// @throws Error if the tar is truncated or corrupt; SysError if a write fails
void copyEntryData(struct archive* tar, archive_entry* entry, int fd);

/// `rm -r` of `name` in the directory `dirFd`, never following a symlink.
/// @throws SysError naming the call
void removeTree(int dirFd, const std::string& name);

// --- the walk ------------------------------------------------------------------------------

/// Extracts every entry of `tar` into the directory `layerFd`, as the tar says, in
/// overlay's format (see the file comment). A later entry of the same path replaces an
/// earlier one (a directory is kept and takes the new metadata). Missing parent
/// directories are created (0755, root). Directories get their mtimes last, once nothing
/// more is created in them.
///
/// Refused, with nothing written outside `layerFd`: an absolute name or a `..` component
/// (in the entry or its hard link target), a name whose parent path goes through a
/// symlink (RESOLVE_NO_SYMLINKS: a tar that makes `link -> /tmp` and then `link/x`), a
/// hard link to a path outside the layer or not yet in it.
/// @param tar a libarchive reader before its first header (TarReader::archive())
/// @param layerFd an open directory, empty at the start
/// @throws UsageError naming the entry and the rule it broke; Error for libarchive's
///         errors (a truncated or corrupt tar); SysError naming the failed call
void extractLayer(struct archive* tar, int layerFd);

// --- the mount -------------------------------------------------------------------------------

/// Everything the overlay mount of a container's root is made of. Every directory exists.
struct OverlaySpec {
    std::vector<std::string> layers;  ///< the image's layer directories, bottom first (as the
                                      ///< image lists its layers); absolute
    std::string linkDir;   ///< the container's directory of short names for the layers (empty)
    std::string upperDir;  ///< the container's writable layer (empty at first)
    std::string workDir;   ///< overlay's scratch directory, on the filesystem of `upperDir`
    std::string target;    ///< the mount point: the container's rootfs
};

/// The longest mount(2) data: the kernel copies one page of it (copy_mount_options).
inline constexpr std::size_t kMaxMountDataSize = 4095;

/// Gives every layer a short name in `spec.linkDir`: a symlink to the layer's directory.
/// A layer's path in the store is about 100 bytes; a hundred of them would not fit in
/// one page of mount options, their short names do (Docker's overlay2 driver does the
/// same with its `l/` directory).
/// @throws SysError naming the call
void makeLayerLinks(const OverlaySpec& spec);

/// The overlay mount's options for `spec`: `lowerdir=` the layers by their short names
/// in `linkDir` (relative to it), topmost first; `upperdir=` and `workdir=`; and
/// `redirect_dir=off,index=off,metacopy=off`, so that the upper directory stays a plain
/// diff (what lab 08 commits): renamed directories are copied, not redirected; no index
/// of hard links; whole files are copied up, not only their metadata. Pure.
/// @throws Error if they do not fit in kMaxMountDataSize bytes
std::string overlayOptions(const OverlaySpec& spec);

/// The steps that mount `spec`'s overlay on `spec.target`, for RootfsSpec::rootMount:
/// change to `linkDir` (the short names are relative to it), then mount(2) "overlay"
/// with overlayOptions(). Pure.
std::vector<rootfs::MountStep> planOverlay(const OverlaySpec& spec);

}  // namespace mydocker::overlay
