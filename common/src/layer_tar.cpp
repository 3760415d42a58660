// A layer of the store as a tar again, always the same bytes for the same files
// (image_archive.hpp): the diff id of a committed layer, and what `save` writes.
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <nettle/sha2.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "mydocker/commit.hpp"
#include "mydocker/error.hpp"
#include "mydocker/file.hpp"
#include "mydocker/image_archive.hpp"
#include "mydocker/overlay.hpp"

namespace mydocker::image {
namespace {

/// AUFS's markers, as image tars carry overlay's whiteouts and opaque directories.
constexpr std::string_view kWhiteoutPrefix = ".wh.";
constexpr const char* kOpaqueMarker = ".wh..wh..opq";
/// How much of a file is read at a time.
constexpr std::size_t kChunk = 1 << 16;
constexpr int kDirFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

std::string hexOf(const std::uint8_t* bytes, std::size_t size) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string text;
    for (std::size_t i = 0; i < size; ++i) {
        text += kDigits[bytes[i] >> 4];
        text += kDigits[bytes[i] & 0xf];
    }
    return text;
}

/// Where the tar's bytes go: hashed, counted, and written to `fd` unless it is -1.
struct Sink {
    int fd = -1;
    std::string name;
    sha256_ctx sha{};
    std::uint64_t size = 0;
    int error = 0;  // errno of a failed write(2)
};

la_ssize_t writeBlock(::archive* /*a*/, void* data, const void* buffer, size_t length) {
    auto* sink = static_cast<Sink*>(data);
    sha256_update(&sink->sha, length, static_cast<const std::uint8_t*>(buffer));
    sink->size += length;
    const char* bytes = static_cast<const char*>(buffer);
    for (std::size_t done = 0; sink->fd >= 0 && done < length;) {
        const ssize_t n = ::write(sink->fd, bytes + done, length - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            sink->error = errno;
            return -1;
        }
        done += static_cast<std::size_t>(n);
    }
    return static_cast<la_ssize_t>(length);
}

using ArchivePtr = std::unique_ptr<::archive, decltype(&::archive_write_free)>;
using EntryPtr = std::unique_ptr<::archive_entry, decltype(&::archive_entry_free)>;

/// The xattrs a layer tar carries for `path`: every one but overlay's (its opaque marker
/// is a `.wh..wh..opq` entry), sorted by name.
std::vector<std::pair<std::string, std::string>> xattrsOf(const std::string& path) {
    std::vector<std::pair<std::string, std::string>> found;
    const ssize_t size = ::llistxattr(path.c_str(), nullptr, 0);
    if (size < 0) throw SysError("llistxattr", path);
    std::string names(static_cast<std::size_t>(size), '\0');
    const ssize_t n = ::llistxattr(path.c_str(), names.data(), names.size());
    if (n < 0) throw SysError("llistxattr", path);
    for (std::size_t start = 0; start < static_cast<std::size_t>(n);) {
        const std::string name = names.substr(start, names.find('\0', start) - start);
        start += name.size() + 1;
        if (name.rfind(overlay::kOverlayXattrPrefix, 0) == 0) continue;
        const ssize_t length = ::lgetxattr(path.c_str(), name.c_str(), nullptr, 0);
        if (length < 0) throw SysError("lgetxattr " + name, path);
        std::string value(static_cast<std::size_t>(length), '\0');
        const ssize_t got = ::lgetxattr(path.c_str(), name.c_str(), value.data(), value.size());
        if (got < 0) throw SysError("lgetxattr " + name, path);
        value.resize(static_cast<std::size_t>(got));
        found.emplace_back(name, std::move(value));
    }
    std::sort(found.begin(), found.end());
    return found;
}

bool isOpaque(const std::string& path) {
    char value[8];
    const ssize_t n = ::lgetxattr(path.c_str(), overlay::kOpaqueXattr, value, sizeof value);
    return n == 1 && value[0] == overlay::kOpaqueValue[0];
}

/// One tar being written from one layer directory.
class LayerTar {
  public:
    LayerTar(Sink& sink, const std::string& name)
        : name_(name), archive_(::archive_write_new(), &::archive_write_free) {
        if (!archive_) throw Error("archive_write_new: out of memory");
        // pax: long names, big files, nanosecond mtimes and xattrs (SCHILY.xattr, which
        // Go's archive/tar reads, so Docker and Podman keep file capabilities).
        check(::archive_write_set_format_pax_restricted(archive_.get()), "set the tar format");
        check(::archive_write_add_filter_none(archive_.get()), "set no compression");
        // No padding to a 10 KiB block after the end: the tar ends where tar(5) says.
        check(::archive_write_set_bytes_in_last_block(archive_.get(), 1), "set the last block");
        check(::archive_write_open(archive_.get(), &sink, nullptr, writeBlock, nullptr),
              "open the tar");
    }

    void directory(int dirFd, const std::string& prefix) {
        std::vector<std::string> names = listDir(commit::pathIn(dirFd, "."));
        std::sort(names.begin(), names.end());  // listDir's order is the filesystem's
        for (const std::string& name : names) {
            const std::string path = prefix.empty() ? name : prefix + "/" + name;
            struct stat st {};
            if (::fstatat(dirFd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
                throw SysError("fstatat", path);
            }
            entry(dirFd, name, prefix, path, st);
        }
    }

    void finish() { check(::archive_write_close(archive_.get()), "finish the tar"); }

  private:
    void entry(int dirFd, const std::string& name, const std::string& prefix,
               const std::string& path, const struct stat& st) {
        if (S_ISSOCK(st.st_mode)) return;
        const std::string inDir = commit::pathIn(dirFd, name);
        if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) {
            marker(prefix, std::string(kWhiteoutPrefix) + name);
            return;
        }
        EntryPtr e = newEntry(path, st);
        for (const auto& [key, value] : xattrsOf(inDir)) {
            ::archive_entry_xattr_add_entry(e.get(), key.c_str(), value.data(), value.size());
        }
        if (S_ISREG(st.st_mode) && st.st_nlink > 1) {
            const auto [first, isNew] = links_.emplace(std::make_pair(st.st_dev, st.st_ino), path);
            if (!isNew) {
                ::archive_entry_set_hardlink(e.get(), first->second.c_str());
                ::archive_entry_set_size(e.get(), 0);
                header(e.get(), path);
                return;
            }
        }
        if (S_ISLNK(st.st_mode)) {
            std::string target(static_cast<std::size_t>(st.st_size) + 1, '\0');
            const ssize_t n = ::readlinkat(dirFd, name.c_str(), target.data(), target.size());
            if (n < 0) throw SysError("readlinkat", path);
            target.resize(static_cast<std::size_t>(n));
            ::archive_entry_set_symlink(e.get(), target.c_str());
        }
        if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
            ::archive_entry_set_rdevmajor(e.get(), major(st.st_rdev));
            ::archive_entry_set_rdevminor(e.get(), minor(st.st_rdev));
        }
        header(e.get(), path);
        if (S_ISREG(st.st_mode)) data(dirFd, name, path, st);
        if (S_ISDIR(st.st_mode)) {
            if (isOpaque(inDir)) marker(path, kOpaqueMarker);
            const UniqueFd sub(::openat(dirFd, name.c_str(), kDirFlags));
            if (!sub) throw SysError("openat", path);
            directory(sub.get(), path);
        }
    }

    /// An entry with `st`'s type, mode, numeric owner and mtime; no atime nor ctime,
    /// which change by themselves, nor names of owners, which are the host's.
    static EntryPtr newEntry(const std::string& path, const struct stat& st) {
        EntryPtr e(::archive_entry_new(), &::archive_entry_free);
        if (!e) throw Error("archive_entry_new: out of memory");
        ::archive_entry_set_pathname(e.get(), path.c_str());
        ::archive_entry_set_mode(e.get(), st.st_mode);
        ::archive_entry_set_uid(e.get(), st.st_uid);
        ::archive_entry_set_gid(e.get(), st.st_gid);
        ::archive_entry_set_mtime(e.get(), st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
        ::archive_entry_set_size(e.get(), S_ISREG(st.st_mode) ? st.st_size : 0);
        return e;
    }

    /// An AUFS marker: an empty file `name` in the directory `prefix`, owned by root, of
    /// time 0: a whiteout made by `import` is a new device, of another mtime, and the same
    /// layer must give the same tar.
    void marker(const std::string& prefix, const std::string& name) {
        const std::string path = prefix.empty() ? name : prefix + "/" + name;
        struct stat empty {};
        empty.st_mode = S_IFREG;
        EntryPtr e = newEntry(path, empty);
        header(e.get(), path);
    }

    void header(::archive_entry* e, const std::string& path) {
        const int status = ::archive_write_header(archive_.get(), e);
        if (status < ARCHIVE_WARN) throw failure(fmt::format("write the header of {}", path));
    }

    void data(int dirFd, const std::string& name, const std::string& path, const struct stat& st) {
        const UniqueFd fd(::openat(dirFd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
        if (!fd) throw SysError("openat", path);
        std::vector<char> buffer(kChunk);
        off_t left = st.st_size;
        while (left > 0) {
            const ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) throw SysError("read", path);
            if (n == 0) throw Error(fmt::format("{} shrank while it was written", path));
            const auto take = std::min<off_t>(n, left);
            if (::archive_write_data(archive_.get(), buffer.data(), static_cast<size_t>(take)) <
                0) {
                throw failure(fmt::format("write the data of {}", path));
            }
            left -= take;
        }
    }

    void check(int status, const std::string& what) {
        if (status != ARCHIVE_OK) throw failure(what);
    }
    Error failure(const std::string& what) {
        const char* text = ::archive_error_string(archive_.get());
        return Error(fmt::format("writing {}: cannot {} ({})", name_, what,
                                 text != nullptr ? text : "libarchive error"));
    }

    std::string name_;
    ArchivePtr archive_;
    std::map<std::pair<dev_t, ino_t>, std::string> links_;  // inode -> its first path
};

}  // namespace

StreamDigest writeLayerTar(int layerFd, int outFd, const std::string& name) {
    Sink sink;
    sink.fd = outFd;
    sink.name = name;
    sha256_init(&sink.sha);
    try {
        LayerTar tar(sink, name);
        tar.directory(layerFd, "");
        tar.finish();
    } catch (const Error&) {
        if (sink.error != 0) throw SysError(sink.error, "write", name);
        throw;
    }
    std::uint8_t bytes[SHA256_DIGEST_SIZE];
    sha256_digest(&sink.sha, sizeof bytes, bytes);
    return {"sha256:" + hexOf(bytes, sizeof bytes), sink.size};
}

}  // namespace mydocker::image
