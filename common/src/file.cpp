#include "mydocker/file.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>

#include <fmt/format.h>

#include "mydocker/error.hpp"
#include "mydocker/unique_fd.hpp"

namespace mydocker {

std::string readFile(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) throw SysError("open", path);
    std::string content;
    char buffer[4096];
    for (;;) {
        const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw SysError("read", path);
        if (n == 0) break;
        content.append(buffer, static_cast<std::size_t>(n));
    }
    return content;
}

std::string readLine(const std::string& path) {
    std::string content = readFile(path);
    while (!content.empty() && (content.back() == '\n' || content.back() == ' ')) {
        content.pop_back();
    }
    return content;
}

void writeFile(const std::string& path, std::string_view content) {
    // No O_CREAT: kernel knobs (cgroup files, /proc) exist or the write is wrong.
    // O_TRUNC as the shell's `>`: kernel files ignore it, and a plain file (a test's fake
    // cgroup tree) then holds exactly the value written, as the kernel file would.
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC));
    if (!fd) throw SysError("open", path);
    // A kernel file takes the value in one write(2); its errno is the kernel's verdict.
    const ssize_t n = ::write(fd.get(), content.data(), content.size());
    if (n < 0) throw SysError(fmt::format("write \"{}\" to", content), path);
    if (static_cast<std::size_t>(n) != content.size()) {
        throw Error(fmt::format("short write to {}", path));
    }
}

void writeFileAtomic(const std::string& path, std::string_view content) {
    const std::string temporary = path + ".tmp";
    {
        UniqueFd fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
        if (!fd) throw SysError("open", temporary);
        std::size_t done = 0;
        while (done < content.size()) {
            const ssize_t n = ::write(fd.get(), content.data() + done, content.size() - done);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) throw SysError("write", temporary);
            done += static_cast<std::size_t>(n);
        }
    }
    if (::rename(temporary.c_str(), path.c_str()) != 0) throw SysError("rename", temporary);
}

bool pathExists(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

bool isDirectory(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

void makeDirs(const std::string& path, unsigned mode) {
    std::string partial;
    std::size_t pos = 0;
    while (pos != std::string::npos) {
        pos = path.find('/', pos + 1);
        partial = path.substr(0, pos);
        if (partial.empty()) continue;
        if (::mkdir(partial.c_str(), static_cast<mode_t>(mode)) != 0 && errno != EEXIST) {
            throw SysError("mkdir", partial);
        }
    }
}

namespace {

/// mountinfo(5) writes a space, tab, newline or backslash in a path as \ooo (octal).
std::string unescapeMountPath(std::string_view escaped) {
    constexpr std::size_t kOctalDigits = 3;
    std::string path;
    for (std::size_t i = 0; i < escaped.size(); ++i) {
        if (escaped[i] == '\\' && i + kOctalDigits < escaped.size()) {
            unsigned value = 0;
            for (std::size_t j = 1; j <= kOctalDigits; ++j) {
                value = value * 8 + static_cast<unsigned>(escaped[i + j] - '0');
            }
            path += static_cast<char>(value);
            i += kOctalDigits;
        } else {
            path += escaped[i];
        }
    }
    return path;
}

/// The mount points of this mount namespace: field 5 of each /proc/self/mountinfo line,
/// e.g. "36 35 0:30 / /sys/fs/cgroup/cpu rw,relatime shared:9 - cgroup cgroup rw,cpu".
std::vector<std::string> mountPoints() {
    constexpr std::size_t kMountPointField = 4;
    std::vector<std::string> points;
    const std::string table = readFile("/proc/self/mountinfo");
    std::size_t start = 0;
    while (start < table.size()) {
        std::size_t end = table.find('\n', start);
        if (end == std::string::npos) end = table.size();
        const std::string_view line(table.data() + start, end - start);
        std::size_t fieldStart = 0;
        for (std::size_t field = 0; field < kMountPointField && fieldStart != std::string::npos;
             ++field) {
            fieldStart = line.find(' ', fieldStart);
            if (fieldStart != std::string::npos) ++fieldStart;
        }
        if (fieldStart != std::string::npos) {
            const std::size_t fieldEnd = line.find(' ', fieldStart);
            points.push_back(unescapeMountPath(line.substr(fieldStart, fieldEnd - fieldStart)));
        }
        start = end + 1;
    }
    return points;
}

/// True when `path` is `dir` or below it (both absolute and canonical).
bool isAtOrBelow(std::string_view path, std::string_view dir) {
    if (dir == "/") return true;
    return path.substr(0, dir.size()) == dir &&
           (path.size() == dir.size() || path[dir.size()] == '/');
}

/// The path the kernel resolved for the directory open at `fd`, from /proc/self/fd.
std::string pathOfFd(int fd) {
    const std::string link = fmt::format("/proc/self/fd/{}", fd);
    std::string path(PATH_MAX, '\0');
    const ssize_t n = ::readlink(link.c_str(), path.data(), path.size());
    if (n < 0) throw SysError("readlink", link);
    path.resize(static_cast<std::size_t>(n));
    return path;
}

/// What is mounted in a tree is not the tree's to remove (a volume's data, image layers).
Error mountedError(const std::string& mountPoint) {
    return Error(fmt::format("something is mounted on {} (unmount it first)", mountPoint));
}

/// Refuses, before anything is removed, a tree with a mount at or below `dir`.
void refuseMountsAtOrBelow(const std::string& dir) {
    for (const std::string& mountPoint : mountPoints()) {
        if (isAtOrBelow(mountPoint, dir)) throw mountedError(mountPoint);
    }
}

/// The device of the directory open at `fd`, after checking it is not the root of a
/// mount: STATX_ATTR_MOUNT_ROOT says so from Linux 5.8; before, a device other than its
/// parent's (which misses a bind mount within one filesystem; mountinfo caught those).
dev_t deviceOfNonMount(int fd, dev_t parentDevice, const std::string& shown) {
    struct statx stx {};
    if (::statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &stx) != 0) throw SysError("statx", shown);
    const dev_t device = makedev(stx.stx_dev_major, stx.stx_dev_minor);
    const bool mountRoot = (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) != 0 &&
                           (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
    if (mountRoot || device != parentDevice) throw mountedError(shown);
    return device;
}

/// The names in the directory open at `fd`, read in full before anything is removed
/// (POSIX leaves unspecified what readdir(3) returns while entries are being unlinked).
std::vector<std::string> namesInDirectory(int fd, const std::string& shown) {
    // A descriptor of its own for the DIR stream: closedir(3) closes it.
    const int own = ::openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (own < 0) throw SysError("openat", shown);
    DIR* dir = ::fdopendir(own);
    if (dir == nullptr) {
        const int err = errno;
        ::close(own);
        throw SysError(err, "fdopendir", shown);
    }
    std::vector<std::string> names;
    errno = 0;
    while (const dirent* entry = ::readdir(dir)) {
        const std::string_view name = entry->d_name;
        if (name != "." && name != "..") names.emplace_back(name);
    }
    const int err = errno;
    ::closedir(dir);
    if (err != 0) throw SysError(err, "readdir", shown);
    return names;
}

/// Removes `name` in the directory open at `parent` (on device `parentDevice`), and all
/// below it: a file or a symlink is unlinked; a directory is entered by fd, emptied,
/// then removed. `shown` is its path, for messages only: no path is ever resolved here.
void removeEntryAt(int parent, const std::string& name, dev_t parentDevice,
                   const std::string& shown) {
    // Anything but a directory goes with one unlink(2), a symlink as the link itself.
    if (::unlinkat(parent, name.c_str(), 0) == 0 || errno == ENOENT) return;
    // EBUSY: a file with something bind-mounted on it. EISDIR: a directory (Linux's errno).
    if (errno == EBUSY) throw mountedError(shown);
    if (errno != EISDIR) throw SysError("unlinkat", shown);

    // O_NOFOLLOW: had it been swapped for a symlink since, the open fails (ELOOP).
    const UniqueFd dir(
        ::openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dir) {
        if (errno == ENOENT) return;
        throw SysError("openat", shown);
    }
    const dev_t device = deviceOfNonMount(dir.get(), parentDevice, shown);
    for (const std::string& child : namesInDirectory(dir.get(), shown)) {
        removeEntryAt(dir.get(), child, device, joinPath(shown, child));
    }
    if (::unlinkat(parent, name.c_str(), AT_REMOVEDIR) == 0 || errno == ENOENT) return;
    if (errno == EBUSY) throw mountedError(shown);
    throw SysError("unlinkat", shown);
}

}  // namespace

void removeAll(const std::string& path) {
    withContext(fmt::format("removing {}", path), [&] {
        // "dir/" is "dir"; then split into the directory that holds it and its name.
        std::string trimmed = path;
        while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
        const std::size_t slash = trimmed.rfind('/');
        const std::string parentPath = slash == std::string::npos ? "."
                                       : slash == 0               ? "/"
                                                                  : trimmed.substr(0, slash);
        const std::string name = slash == std::string::npos ? trimmed : trimmed.substr(slash + 1);
        // As rm(1): "/", "." and ".." name no entry that could be removed.
        if (name.empty() || name == "." || name == "..") {
            throw Error("refusing to remove \"/\", \".\" or \"..\"");
        }
        const UniqueFd parent(::open(parentPath.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!parent) {
            if (errno == ENOENT || errno == ENOTDIR) return;  // nothing there to remove
            throw SysError("open", parentPath);
        }
        struct stat parentStat {};
        if (::fstat(parent.get(), &parentStat) != 0) throw SysError("fstat", parentPath);
        // Before anything is removed: nothing may be mounted at or below the tree.
        refuseMountsAtOrBelow(joinPath(pathOfFd(parent.get()), name));
        removeEntryAt(parent.get(), name, parentStat.st_dev, trimmed);
    });
}

std::vector<std::string> listDir(const std::string& path) {
    DIR* dir = ::opendir(path.c_str());
    if (dir == nullptr) throw SysError("opendir", path);
    std::vector<std::string> names;
    while (const dirent* entry = ::readdir(dir)) {
        const std::string_view name = entry->d_name;
        if (name != "." && name != "..") names.emplace_back(name);
    }
    ::closedir(dir);
    std::sort(names.begin(), names.end());
    return names;
}

std::string joinPath(std::string_view a, std::string_view b) {
    std::string joined(a);
    while (!joined.empty() && joined.back() == '/') joined.pop_back();
    while (!b.empty() && b.front() == '/') b.remove_prefix(1);
    joined += '/';
    joined += b;
    return joined;
}

}  // namespace mydocker
