// Lab 08: the diff walk. A container's upper directory becomes a layer of the store.
//
// overlayfs keeps in `upper` exactly what the container changed, already in the format
// the store keeps layers in (a whiteout is a 0/0 character device, an opaque directory
// has trusted.overlay.opaque=y): the walk copies it, exactly, leaving out overlay's
// private xattrs (xattrs.cpp) and the runtime's mount points.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "mydocker/commit.hpp"
#include "mydocker/error.hpp"
#include "mydocker/file.hpp"
#include "mydocker/unique_fd.hpp"

namespace mydocker::commit {
namespace {

/// What a directory is opened with, on both sides: never through a symlink.
constexpr int kDirFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
/// A new directory or file is root's only until its own owner and mode are set.
constexpr mode_t kPrivateMode = 0700;
/// The permission bits chmod(2) sets: rwx for all three, setuid, setgid, sticky.
constexpr mode_t kModeBits = 07777;

/// One walk of an upper directory.
class DiffWalk {
  public:
    DiffWalk(int layerFd, const std::vector<std::string>& excluded)
        : layerFd_(layerFd), excluded_(excluded.begin(), excluded.end()) {}

    /// Copies the entries of the directory `fromFd` (at `prefix` in the container,
    /// "" for its root) into `toFd`.
    void copyDir(int fromFd, int toFd, const std::string& prefix) {
        for (const std::string& name : listDir(pathIn(fromFd, "."))) {
            const std::string path = prefix.empty() ? name : prefix + "/" + name;
            struct stat st {};
            if (::fstatat(fromFd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
                throw SysError("fstatat", path);
            }
            copyEntry(fromFd, toFd, name, path, st);
        }
    }

  private:
    void copyEntry(int fromDir, int toDir, const std::string& name, const std::string& path,
                   const struct stat& st) {
        // BEGIN SOLUTION: todo("TODO (lab 08): copy one entry of the upper dir (directory, file, symlink, device, fifo; a second name of an inode as a hard link) with its owner, mode, xattrs and times", fromDir, toDir, name, path, st, layerFd_, links_, excluded_);
        // The runtime's mount points (excluded_) are not the image's: leave them out, and
        // what is below them. A socket means nothing without its process: skip it too.
        if (excluded_.count(path) != 0 || S_ISSOCK(st.st_mode)) return;
        // Two names of one inode in `upper` (a hard link made in the container, or the
        // whiteouts overlay makes by linking one inode) stay two names of one inode: the
        // second is linkat(2) to the first one's path below layerFd_.
        const std::pair<dev_t, ino_t> inode{st.st_dev, st.st_ino};
        if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
            if (const auto first = links_.find(inode); first != links_.end()) {
                if (::linkat(layerFd_, first->second.c_str(), toDir, name.c_str(), 0) != 0) {
                    throw SysError("linkat", path);
                }
                return;
            }
            links_.emplace(inode, path);
        }
        if (S_ISDIR(st.st_mode)) {
            copyDirectory(fromDir, toDir, name, path);
        } else if (S_ISREG(st.st_mode)) {
            copyFile(fromDir, toDir, name, path);
        } else if (S_ISLNK(st.st_mode)) {
            copySymlink(fromDir, toDir, name, path, st);
        } else {
            // Character and block devices, fifos; a whiteout is a character device 0/0,
            // copied as any device. mknod(2) applies the umask: set the mode afterwards.
            if (::mknodat(toDir, name.c_str(), st.st_mode & (S_IFMT | kPrivateMode), st.st_rdev) !=
                0) {
                throw SysError("mknodat", path);
            }
        }
        // Owner first: chown(2) clears the setuid and setgid bits and security.capability.
        // Then the mode, the xattrs (copyXattrs()), and the times last, after everything
        // that could change them (a directory's after its entries).
        setMetadata(fromDir, toDir, name, path, st);
        // END SOLUTION
    }

    // BEGIN SOLUTION:
    void copyDirectory(int fromDir, int toDir, const std::string& name, const std::string& path) {
        if (::mkdirat(toDir, name.c_str(), kPrivateMode) != 0) throw SysError("mkdirat", path);
        const UniqueFd from(::openat(fromDir, name.c_str(), kDirFlags));
        if (!from) throw SysError("openat", path);
        const UniqueFd to(::openat(toDir, name.c_str(), kDirFlags));
        if (!to) throw SysError("openat", path);
        copyDir(from.get(), to.get(), path);
    }

    static void copyFile(int fromDir, int toDir, const std::string& name, const std::string& path) {
        const UniqueFd from(::openat(fromDir, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
        if (!from) throw SysError("openat", path);
        const UniqueFd to(::openat(toDir, name.c_str(),
                                   O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                                   kPrivateMode));
        if (!to) throw SysError("openat", path);
        copyFileData(from.get(), to.get(), path);
    }

    static void copySymlink(int fromDir, int toDir, const std::string& name,
                            const std::string& path, const struct stat& st) {
        // st_size is the target's length; a target is never followed, only copied.
        std::string target(static_cast<std::size_t>(st.st_size) + 1, '\0');
        const ssize_t n = ::readlinkat(fromDir, name.c_str(), target.data(), target.size());
        if (n < 0) throw SysError("readlinkat", path);
        target.resize(static_cast<std::size_t>(n));
        if (::symlinkat(target.c_str(), toDir, name.c_str()) != 0) {
            throw SysError("symlinkat", path);
        }
    }

    /// Owner, mode, xattrs, times, in the order that keeps each.
    static void setMetadata(int fromDir, int toDir, const std::string& name,
                            const std::string& path, const struct stat& st) {
        if (::fchownat(toDir, name.c_str(), st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) != 0) {
            throw SysError("fchownat", path);
        }
        // A symlink's mode is always 0777 on Linux: there is nothing to set.
        if (!S_ISLNK(st.st_mode) &&
            ::fchmodat(toDir, name.c_str(), st.st_mode & kModeBits, 0) != 0) {
            throw SysError("fchmodat", path);
        }
        copyXattrs(fromDir, toDir, name);
        const timespec times[2] = {st.st_atim, st.st_mtim};
        if (::utimensat(toDir, name.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
            throw SysError("utimensat", path);
        }
    }
    // END SOLUTION

    int layerFd_;
    std::set<std::string> excluded_;
    std::map<std::pair<dev_t, ino_t>, std::string> links_;  // inode -> its first path
};

}  // namespace

void copyUpperDir(int upperFd, int layerFd, const std::vector<std::string>& excluded) {
    DiffWalk(layerFd, excluded).copyDir(upperFd, layerFd, "");
}

}  // namespace mydocker::commit
