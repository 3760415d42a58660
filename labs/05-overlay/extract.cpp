// Lab 05: the walk over a layer tar's entries, each created below the layer's directory
// exactly as the tar says, and nothing created anywhere else.
//
// A layer tar is input from anyone: `import` runs as root, so an entry named
// "../../etc/cron.d/x", or a symlink "link -> /etc" followed by an entry "link/passwd",
// would write over the host's files. Two rules make that impossible:
//
//   1. names are checked before they are paths (normalizeEntryPath: no "/x", no "..");
//   2. every path is resolved by the kernel below the layer's directory fd, with
//      openat2(2)'s RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS: a symlink anywhere on the way
//      is an error (ELOOP), never followed; and the last component is created with
//      O_EXCL / O_NOFOLLOW or the *at() calls that never follow it.
//
// Then the details that make a layer the same as the image's: numeric owners (the host's
// /etc/passwd has nothing to say about the image's users), chown before chmod (chown(2)
// clears setuid and setgid), xattrs after chown (it clears security.capability too), and
// directories' mtimes last (creating an entry in a directory changes its mtime).
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mydocker/error.hpp"
#include "mydocker/overlay.hpp"
#include "mydocker/unique_fd.hpp"

namespace mydocker::overlay {
namespace {

/// Parent directories a tar does not list are made like `tar -x` makes them.
constexpr mode_t kParentDirMode = 0755;
/// Until its owner and mode are set, a new entry is root's alone.
constexpr mode_t kPrivateMode = 0700;
/// The permission bits a tar carries: rwx for all three, and setuid, setgid, sticky.
constexpr mode_t kPermissionBits = 07777;

/// "a/b/c" -> {"a/b", "c"}; "c" -> {"", "c"}.
std::pair<std::string, std::string> splitParent(const std::string& path) {
    const auto slash = path.rfind('/');
    if (slash == std::string::npos) return {"", path};
    return {path.substr(0, slash), path.substr(slash + 1)};
}

/// Opens the directory `path` (relative, normalized; "" is the layer itself) below
/// `layerFd` with openat2(2), so that the kernel refuses any way out of the layer.
/// Returns an invalid fd with errno set (ENOENT, ELOOP for a symlink on the way,
/// ENOTDIR...) for the caller to explain.
UniqueFd openInLayer(int layerFd, const std::string& path) {
    // Hint: Beneath the layer (no "..", no absolute symlink out), through no symlink at all (not
    // even one that stays inside: the image's symlinks point into the container's root,
    // not the layer's), no /proc magic link, no other mount.
    todo("TODO (lab 05): open a directory below the layer with openat2(2): RESOLVE_BENEATH, no symlinks", layerFd, path);
}

/// Creates the entries of one layer, one header at a time.
class LayerWriter {
  public:
    explicit LayerWriter(int layerFd) : layer_(layerFd) {}

    /// Creates what `entry` describes (its data is read from `tar`).
    void apply(archive* tar, archive_entry* entry) {
        const char* name = archive_entry_pathname(entry);
        if (name == nullptr) throw UsageError("an entry without a name (not a valid tar)");
        const LayerPath target = classifyEntry(name);
        switch (target.role) {
            case EntryRole::ignored:
                return;
            case EntryRole::whiteout:
                return whiteout(target.path, entry);
            case EntryRole::opaque:
                return opaque(target.path);
            case EntryRole::file:
                break;
        }
        if (target.path.empty()) return layerRoot(entry);  // "./": the layer's own directory
        if (const char* link = archive_entry_hardlink(entry)) return hardLink(target.path, link);
        const auto [dir, base] = splitParent(target.path);
        const int parent = directory(dir);
        switch (archive_entry_filetype(entry)) {
            case AE_IFDIR:
                return makeDirectory(parent, base, target.path, entry);
            case AE_IFREG:
                return makeFile(tar, parent, base, entry);
            case AE_IFLNK:
                return makeSymlink(parent, base, entry);
            case AE_IFCHR:
            case AE_IFBLK:
            case AE_IFIFO:
                return makeNode(parent, base, entry);
            case AE_IFSOCK:
                return;  // a socket is made by its server, never by an archive
            default:
                throw UsageError(fmt::format("unsupported entry type (file type {:o})",
                                             archive_entry_filetype(entry)));
        }
    }

    /// After the last entry: the directories' times, now that nothing is created in them.
    void finish() {
        for (const auto& [path, times] : directoryTimes_) {
            const UniqueFd dir = openInLayer(layer_, path);
            if (!dir) continue;  // replaced by a later entry: that one has its own times
            if (::futimens(dir.get(), times.value) != 0) throw SysError("futimens", path);
        }
    }

  private:
    /// The directory `path` of the layer, opened (and made, with its missing parents, if
    /// the tar did not list it). The last one is kept open: entries come in directory order.
    int directory(const std::string& path) {
        if (cached_ && cachedPath_ == path) return cached_.get();
        UniqueFd dir = openInLayer(layer_, path);
        if (!dir && errno == ENOENT) dir = makeParents(path);
        if (!dir) throw pathError(path, errno);
        cached_ = std::move(dir);
        cachedPath_ = path;
        return cached_.get();
    }

    /// `mkdir -p path` below the layer, one component at a time, each opened with the
    /// same rules.
    UniqueFd makeParents(const std::string& path) {
        std::string partial;
        UniqueFd dir;
        std::size_t start = 0;
        while (start < path.size()) {
            const std::size_t end = std::min(path.find('/', start), path.size());
            const std::string component = path.substr(start, end - start);
            const int parentFd = dir ? dir.get() : layer_;
            partial = partial.empty() ? component : partial + "/" + component;
            start = end + 1;
            UniqueFd next = openInLayer(layer_, partial);
            if (!next && errno == ENOENT) {
                if (::mkdirat(parentFd, component.c_str(), kParentDirMode) != 0) {
                    throw SysError("mkdirat", partial);
                }
                // mkdir(2) applies the umask: set the mode exactly.
                if (::fchmodat(parentFd, component.c_str(), kParentDirMode, 0) != 0) {
                    throw SysError("fchmodat", partial);
                }
                next = openInLayer(layer_, partial);
            }
            if (!next) throw pathError(partial, errno);
            dir = std::move(next);
        }
        return dir;
    }

    /// Why `path` cannot be a directory of the layer, from openat2(2)'s errno.
    static Error pathError(const std::string& path, int err) {
        if (err == ELOOP) {
            return UsageError(
                fmt::format("unsafe path through {} (a symlink: writing through "
                            "it could leave the layer)",
                            quoted(path)));
        }
        if (err == ENOTDIR) {
            return UsageError(
                fmt::format("invalid path through {} (not a directory)", quoted(path)));
        }
        if (err == EXDEV) {
            return UsageError(fmt::format("unsafe path {} (it leaves the layer)", quoted(path)));
        }
        return SysError(err, "openat2", path);
    }

    /// Makes room for a new entry `name` in `dirFd`: whatever is there goes, except a
    /// directory where a directory comes (it keeps its entries, takes the new metadata).
    void makeRoom(int dirFd, const std::string& name, bool forDirectory) {
        struct stat st {};
        if (::fstatat(dirFd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno == ENOENT) return;
            throw SysError("fstatat", name);
        }
        if (forDirectory && S_ISDIR(st.st_mode)) return;
        // The directory kept open may be below what goes (never the one it goes from).
        if (cached_.get() != dirFd) cached_.reset();
        removeTree(dirFd, name);
    }

    /// Calls `set(name, value, size)` for each xattr of the entry that a layer may carry:
    /// overlayfs reads the trusted.overlay.* xattrs of its layers (kOverlayXattrPrefix),
    /// so a tar may not set them itself.
    template <class Set>
    static void forEachXattr(archive_entry* entry, Set&& set) {
        const char* name = nullptr;
        const void* value = nullptr;
        std::size_t size = 0;
        archive_entry_xattr_reset(entry);
        while (archive_entry_xattr_next(entry, &name, &value, &size) == ARCHIVE_OK) {
            if (std::string_view(name).starts_with(kOverlayXattrPrefix)) continue;
            set(name, value, size);
        }
    }

    /// The entry's owner, mode and xattrs on the open `fd`, in the order that keeps them:
    /// chown(2) clears setuid, setgid and security.capability, so it comes first.
    void setMetadata(int fd, archive_entry* entry) {
        // Hint: Numbers, never names: the host's /etc/passwd says nothing about the image's users.
        // chown(2) clears setuid, setgid and security.capability: the owner first, then the
        // mode, then the xattrs. overlayfs reads the trusted.overlay.* xattrs of its layers
        // (kOverlayXattrPrefix): a tar may not set them itself.
        todo("TODO (lab 05): set the entry's numeric owner, then its mode (setuid/setgid/sticky too), then its xattrs on fd", fd, entry);
    }

    /// The same for an entry that cannot be opened (a symlink, a device, a fifo): through
    /// its directory, never following it.
    void setMetadataAt(int dirFd, const std::string& base, archive_entry* entry) {
        // Hints:
        // - A symlink has no mode of its own on Linux (it is always 0777).
        // - No fd form for a symlink: its directory's fd, through /proc, then its name,
        //   which lsetxattr(2) does not follow.
        todo("TODO (lab 05): set the owner, mode and xattrs of a symlink or node through its directory, without following it", dirFd, base, entry);
    }

    // --- one function per kind of entry -------------------------------------------------

    void layerRoot(archive_entry* entry) {
        if (archive_entry_filetype(entry) != AE_IFDIR) {
            throw UsageError("invalid root entry (the layer's own directory must be a directory)");
        }
        setMetadata(layer_, entry);
        directoryTimes_.emplace_back("", entryTimes(entry));
    }

    void makeDirectory(int parent, const std::string& base, const std::string& path,
                       archive_entry* entry) {
        // Hint: Every entry created in it from now on changes its mtime: set it at the end.
        todo("TODO (lab 05): create a directory (or keep the one there), open it, set its metadata; its times come last", parent, base, path, entry);
    }

    void makeFile(archive* tar, int parent, const std::string& base, archive_entry* entry) {
        // Hint: O_EXCL | O_NOFOLLOW: a new file, never an existing one or a symlink's target
        // (makeRoom() cleared the name); root's alone until setMetadata() gives it its owner
        // and mode. Its times last: writing its data changes its mtime.
        todo("TODO (lab 05): create a regular file (O_EXCL | O_NOFOLLOW), write its data, set its metadata and times", tar, parent, base, entry);
    }

    void makeSymlink(int parent, const std::string& base, archive_entry* entry) {
        // Hint: Its target is text the container resolves in its own root: store it as it is.
        todo("TODO (lab 05): create a symlink (its target is text: never followed here), set its owner and times", parent, base, entry);
    }

    void makeNode(int parent, const std::string& base, archive_entry* entry) {
        // Hint: mknodat(2) takes the type (S_IFCHR, S_IFBLK, S_IFIFO) in its mode;
        // archive_entry_rdev(3) has the device number, major and minor in one dev_t.
        todo("TODO (lab 05): create a device node or fifo with mknodat(2), set its metadata and times", parent, base, entry);
    }

    void hardLink(const std::string& path, const char* link) {
        // Hint: A hard link names an earlier entry of this layer: the same rules apply to its
        // name, and linkat(2) without AT_SYMLINK_FOLLOW links a symlink itself, never
        // what it points to.
        todo("TODO (lab 05): link to an earlier entry of this layer (checked like any name) with linkat(2)", path, link);
    }

    void whiteout(const std::string& path, archive_entry* entry) {
        // Hint: The deleted name becomes overlay's whiteout, owned as the tar's marker was.
        todo("TODO (lab 05): replace whatever is at path with overlay's whiteout (makeWhiteout)", path, entry);
    }

    void opaque(const std::string& path) {
        // Hint: The marker may come before its directory's own entry, or without one.
        todo("TODO (lab 05): make the directory at path (created if missing) opaque (markOpaque)", path);
    }

    int layer_;
    UniqueFd cached_;         // the directory entries were last created in
    std::string cachedPath_;  // its path in the layer
    std::vector<std::pair<std::string, EntryTimes>> directoryTimes_;
};

}  // namespace

void extractLayer(archive* tar, int layerFd) {
    LayerWriter writer(layerFd);
    archive_entry* entry = nullptr;
    for (;;) {
        const int r = archive_read_next_header(tar, &entry);
        if (r == ARCHIVE_EOF) break;
        // ARCHIVE_WARN is a header libarchive could read with a reservation (an unusual
        // charset in a name): the entry is still there.
        if (r < ARCHIVE_WARN)
            throw Error(fmt::format("not a valid tar ({})", archive_error_string(tar)));
        const char* name = archive_entry_pathname(entry);
        withContext(fmt::format("entry {}", quoted(name != nullptr ? name : "?")),
                    [&] { writer.apply(tar, entry); });
    }
    writer.finish();
}

}  // namespace mydocker::overlay
