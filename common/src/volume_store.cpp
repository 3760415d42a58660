// Lab 09's given code: the records of named volumes (a directory each under
// `<root>/volumes/`), the lock that keeps `volume rm` off a volume in use, and Docker's
// copy-up of the image's files into a new volume.
#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <string>
#include <vector>

#include "mydocker/error.hpp"
#include "mydocker/file.hpp"
#include "mydocker/volumes.hpp"

namespace mydocker::volumes {
namespace {

/// Modes of what the store makes: the records are the runtime's; the data is the
/// container's, 0755 as Docker makes it.
constexpr mode_t kVolumesDirMode = 0700;
constexpr mode_t kDataDirMode = 0755;

/// A symlink's target is at most this long (PATH_MAX).
constexpr std::size_t kMaxLinkLength = 4096;

/// Bytes copied by one read(2) and write(2).
constexpr std::size_t kCopyBuffer = 64 * 1024;

bool isNameStart(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0;
}

bool isNameChar(char c) {
    return isNameStart(c) || c == '_' || c == '.' || c == '-';
}

/// Opens the directory of volume `name` for its lock, read-only.
UniqueFd openVolumeDir(const std::string& root, const std::string& name) {
    return UniqueFd(
        ::open(volumeDir(root, name).c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
}

/// True when the directory held by `fd` has been removed since it was opened.
bool wasRemoved(const UniqueFd& fd) {
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) throw SysError("fstat", "a volume's directory");
    return st.st_nlink == 0;
}

/// Copies the regular file `name` of `from` into `to`, data then mode and owner.
void copyFile(int from, int to, const char* name, const struct stat& st) {
    const UniqueFd in(::openat(from, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!in) throw SysError("openat", name);
    const UniqueFd out(
        ::openat(to, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!out) throw SysError("openat", name);
    std::vector<char> buffer(kCopyBuffer);
    for (;;) {
        const ssize_t n = ::read(in.get(), buffer.data(), buffer.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw SysError("read", name);
        if (n == 0) break;
        for (ssize_t done = 0; done < n;) {
            const ssize_t w =
                ::write(out.get(), buffer.data() + done, static_cast<std::size_t>(n - done));
            if (w < 0 && errno == EINTR) continue;
            if (w < 0) throw SysError("write", name);
            done += w;
        }
    }
    // Owner first: chown(2) clears the setuid and setgid bits that fchmod then sets.
    if (::fchown(out.get(), st.st_uid, st.st_gid) != 0) throw SysError("fchown", name);
    if (::fchmod(out.get(), st.st_mode & 07777) != 0) throw SysError("fchmod", name);
}

/// Copies the entry `name` of `from` (whose lstat is `st`) into `to`.
void copyEntry(int from, int to, const char* name, const struct stat& st) {
    if (S_ISREG(st.st_mode)) {
        copyFile(from, to, name, st);
        return;
    }
    if (S_ISDIR(st.st_mode)) {
        if (::mkdirat(to, name, 0700) != 0) throw SysError("mkdirat", name);
        const UniqueFd sub(::openat(from, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!sub) throw SysError("openat", name);
        const UniqueFd subCopy(::openat(to, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!subCopy) throw SysError("openat", name);
        copyTree(sub.get(), subCopy.get());
    } else if (S_ISLNK(st.st_mode)) {
        std::string target(kMaxLinkLength, '\0');
        const ssize_t n = ::readlinkat(from, name, target.data(), target.size());
        if (n < 0) throw SysError("readlinkat", name);
        target.resize(static_cast<std::size_t>(n));
        if (::symlinkat(target.c_str(), to, name) != 0) throw SysError("symlinkat", name);
    } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISFIFO(st.st_mode)) {
        if (::mknodat(to, name, st.st_mode, st.st_rdev) != 0) throw SysError("mknodat", name);
    } else {
        return;  // a socket means nothing in a copy
    }
    if (::fchownat(to, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) != 0) {
        throw SysError("fchownat", name);
    }
    if (!S_ISLNK(st.st_mode) && ::fchmodat(to, name, st.st_mode & 07777, 0) != 0) {
        throw SysError("fchmodat", name);
    }
}

}  // namespace

bool isVolumeName(std::string_view name) {
    if (name.size() < 2 || !isNameStart(name.front())) return false;
    return std::all_of(name.begin(), name.end(), isNameChar);
}

std::string volumesDir(const std::string& root) {
    return joinPath(root, "volumes");
}

std::string volumeDir(const std::string& root, const std::string& name) {
    return joinPath(volumesDir(root), name);
}

std::string volumeDataDir(const std::string& root, const std::string& name) {
    return joinPath(volumeDir(root, name), "_data");
}

VolumeUse::VolumeUse(const std::string& root, const std::string& name)
    : dataDir_(volumeDataDir(root, name)) {
    if (!isVolumeName(name)) {
        throw UsageError(fmt::format(
            "invalid volume name {} (must match [a-zA-Z0-9][a-zA-Z0-9_.-]+)", quoted(name)));
    }
    // A `volume rm` may remove the directory between our open and our lock: then the
    // lock is on a removed directory, and the volume is made again.
    for (int attempt = 0; attempt < 2; ++attempt) {
        makeDirs(volumesDir(root), kVolumesDirMode);
        if (::mkdir(volumeDir(root, name).c_str(), kVolumesDirMode) == 0) {
            created_ = true;
        } else if (errno != EEXIST) {
            throw SysError("mkdir", volumeDir(root, name));
        }
        lock_ = openVolumeDir(root, name);
        if (!lock_) throw SysError("open", volumeDir(root, name));
        if (::flock(lock_.get(), LOCK_SH) != 0) throw SysError("flock", volumeDir(root, name));
        if (wasRemoved(lock_)) continue;
        if (::mkdir(dataDir_.c_str(), kDataDirMode) != 0 && errno != EEXIST) {
            throw SysError("mkdir", dataDir_);
        }
        return;
    }
    throw Error(
        fmt::format("cannot use volume {} (it was removed while being opened)", quoted(name)));
}

std::vector<std::string> listVolumes(const std::string& root) {
    if (!isDirectory(volumesDir(root))) return {};
    std::vector<std::string> names;
    for (const std::string& name : listDir(volumesDir(root))) {
        if (isVolumeName(name) && isDirectory(volumeDir(root, name))) names.push_back(name);
    }
    return names;
}

void removeVolume(const std::string& root, const std::string& name) {
    if (!isVolumeName(name) || !isDirectory(volumeDir(root, name))) {
        throw UsageError(fmt::format("no such volume {} (see volume ls)", quoted(name)));
    }
    const UniqueFd lock = openVolumeDir(root, name);
    if (!lock) throw SysError("open", volumeDir(root, name));
    // Every container using the volume holds a shared lock on it (VolumeUse).
    if (::flock(lock.get(), LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK) {
            throw UsageError(
                fmt::format("cannot remove volume {} (it is in use by a container)", quoted(name)));
        }
        throw SysError("flock", volumeDir(root, name));
    }
    removeAll(volumeDir(root, name));
    // The last volume takes `volumes/` with it (the lock file of no one).
    if (listDir(volumesDir(root)).empty() && ::rmdir(volumesDir(root).c_str()) != 0 &&
        errno != ENOTEMPTY && errno != EEXIST && errno != ENOENT) {
        throw SysError("rmdir", volumesDir(root));
    }
}

void copyTree(int from, int to) {
    const int listFd = ::openat(from, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (listFd < 0) throw SysError("openat", "a directory to copy");
    DIR* dir = ::fdopendir(listFd);
    if (dir == nullptr) {
        ::close(listFd);
        throw SysError("fdopendir", "a directory to copy");
    }
    std::vector<std::string> names;
    errno = 0;
    while (const dirent* entry = ::readdir(dir)) {
        const std::string name = entry->d_name;
        if (name != "." && name != "..") names.push_back(name);
    }
    const int readError = errno;
    ::closedir(dir);
    if (readError != 0) throw SysError(readError, "readdir", "a directory to copy");
    for (const std::string& name : names) {
        struct stat st {};
        if (::fstatat(from, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
            throw SysError("fstatat", name);
        }
        withContext(fmt::format("copying {}", quoted(name)),
                    [&] { copyEntry(from, to, name.c_str(), st); });
    }
}

}  // namespace mydocker::volumes
