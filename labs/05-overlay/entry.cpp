// Lab 05, given: reading a tar entry's owner, times and data with libarchive, and
// removing what an entry replaces. Plumbing for the walk (extract.cpp), not the lesson.
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "mydocker/error.hpp"
#include "mydocker/overlay.hpp"
#include "mydocker/unique_fd.hpp"

namespace mydocker::overlay {

EntryOwner entryOwner(archive_entry* entry) {
    const la_int64_t uid = archive_entry_uid(entry);
    const la_int64_t gid = archive_entry_gid(entry);
    // tar stores any number; the kernel takes 32 bits, and (uid_t)-1 means "unchanged".
    constexpr la_int64_t kMaxId = 0xfffffffeLL;
    if (uid < 0 || uid > kMaxId || gid < 0 || gid > kMaxId) {
        throw UsageError(fmt::format("invalid owner {}:{} (not a 32-bit id)", uid, gid));
    }
    return {static_cast<uid_t>(uid), static_cast<gid_t>(gid)};
}

EntryTimes entryTimes(archive_entry* entry) {
    EntryTimes times{};
    times.value[1] = archive_entry_mtime_is_set(entry)
                         ? timespec{archive_entry_mtime(entry), archive_entry_mtime_nsec(entry)}
                         : timespec{0, UTIME_OMIT};
    times.value[0] = archive_entry_atime_is_set(entry)
                         ? timespec{archive_entry_atime(entry), archive_entry_atime_nsec(entry)}
                         : times.value[1];
    return times;
}

void copyEntryData(archive* tar, archive_entry* entry, int fd) {
    const void* block = nullptr;
    std::size_t length = 0;
    la_int64_t offset = 0;
    for (;;) {
        const int r = archive_read_data_block(tar, &block, &length, &offset);
        if (r == ARCHIVE_EOF) break;
        if (r < ARCHIVE_WARN) {
            throw Error(fmt::format("cannot read its data ({})", archive_error_string(tar)));
        }
        const char* bytes = static_cast<const char*>(block);
        while (length > 0) {
            const ssize_t n = ::pwrite(fd, bytes, length, offset);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) throw SysError("pwrite", archive_entry_pathname(entry));
            bytes += n;
            offset += n;
            length -= static_cast<std::size_t>(n);
        }
    }
    // A sparse file may end in a hole: its size is the header's, not the last block's end.
    if (::ftruncate(fd, archive_entry_size(entry)) != 0) {
        throw SysError("ftruncate", archive_entry_pathname(entry));
    }
}

void removeTree(int dirFd, const std::string& name) {
    if (::unlinkat(dirFd, name.c_str(), 0) == 0 || errno == ENOENT) return;
    if (errno != EISDIR) throw SysError("unlinkat", name);
    UniqueFd dir(::openat(dirFd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dir) throw SysError("openat", name);
    DIR* stream = ::fdopendir(::fcntl(dir.get(), F_DUPFD_CLOEXEC, 0));
    if (stream == nullptr) throw SysError("fdopendir", name);
    std::vector<std::string> children;
    while (const dirent* child = ::readdir(stream)) {
        const std::string childName = child->d_name;
        if (childName != "." && childName != "..") children.push_back(childName);
    }
    ::closedir(stream);
    for (const auto& child : children) removeTree(dir.get(), child);
    if (::unlinkat(dirFd, name.c_str(), AT_REMOVEDIR) != 0) throw SysError("unlinkat", name);
}

}  // namespace mydocker::overlay
