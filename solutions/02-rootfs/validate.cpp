// Lab 02: check --rootfs in the parent, before anything is created, so that bad
// input is one error line and leaves nothing behind.
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "mydocker/error.hpp"
#include "mydocker/rootfs.hpp"
#include "mydocker/unique_fd.hpp"

namespace mydocker::rootfs {
namespace {

/// The host's own system directories. A container rooted in one would get its /proc,
/// /dev and /sys mount points made in the host's files, and run the host's programs.
/// Directories under them are the user's to choose (/var/tmp/rootfs is fine).
constexpr const char* kHostSystemDirs[] = {
    "/",       "/bin",  "/boot", "/dev",  "/etc", "/lib", "/lib32", "/lib64",
    "/libx32", "/proc", "/run",  "/sbin", "/sys", "/usr", "/var",
};

/// The trees of the host's kernel interfaces: nothing below them (/sys/fs/cgroup, a
/// tmpfs on hybrid hosts, included) is a place for a container's root.
constexpr const char* kKernelTrees[] = {"/proc", "/sys"};

/// Filesystems the kernel makes up as they are read (statfs(2) f_type, from
/// <linux/magic.h>): a directory there is the kernel's view of itself, never a root.
struct PseudoFilesystem {
    decltype(statfs::f_type) magic;
    const char* name;
};
constexpr PseudoFilesystem kPseudoFilesystems[] = {
    {PROC_SUPER_MAGIC, "proc"},     {SYSFS_MAGIC, "sysfs"},
    {CGROUP_SUPER_MAGIC, "cgroup"}, {CGROUP2_SUPER_MAGIC, "cgroup2"},
    {DEVPTS_SUPER_MAGIC, "devpts"}, {DEBUGFS_MAGIC, "debugfs"},
    {TRACEFS_MAGIC, "tracefs"},     {SECURITYFS_MAGIC, "securityfs"},
    {SELINUX_MAGIC, "selinuxfs"},   {SMACK_MAGIC, "smackfs"},
    {BPF_FS_MAGIC, "bpf"},          {PSTOREFS_MAGIC, "pstore"},
    {EFIVARFS_MAGIC, "efivarfs"},   {BINFMTFS_MAGIC, "binfmt_misc"},
    {NSFS_MAGIC, "nsfs"},
};

// BEGIN SOLUTION
bool sameInode(const struct stat& a, const struct stat& b) {
    return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/// The entry of kHostSystemDirs that `dir` is, or nullptr. By device and inode, not by
/// name: "/etc/.", "/usr/../etc" or a symlink to /etc all are /etc.
const char* hostSystemDirectory(const struct stat& dir) {
    for (const char* system : kHostSystemDirs) {
        struct stat st {};
        // A directory this host does not have (/lib32) cannot be the rootfs.
        if (::stat(system, &st) == 0 && sameInode(st, dir)) return system;
    }
    return nullptr;
}

/// The entry of kKernelTrees that `path` (absolute, resolved) is in, or nullptr.
const char* kernelTreeOf(std::string_view path) {
    for (const char* tree : kKernelTrees) {
        const std::string_view top = tree;
        if (path.substr(0, top.size()) == top &&
            (path.size() == top.size() || path[top.size()] == '/')) {
            return tree;
        }
    }
    return nullptr;
}

/// The path the kernel resolved the directory open at `fd` to, from /proc/self/fd:
/// symlinks, "." and ".." are gone from it.
std::string resolvedPath(int fd) {
    const std::string link = fmt::format("/proc/self/fd/{}", fd);
    std::string path(PATH_MAX, '\0');
    const ssize_t n = ::readlink(link.c_str(), path.data(), path.size());
    if (n < 0) throw SysError("readlink", link);
    path.resize(static_cast<std::size_t>(n));
    return path;
}

/// The name of the pseudo-filesystem of kPseudoFilesystems `type` is, or nullptr.
const char* pseudoFilesystemName(decltype(statfs::f_type) type) {
    for (const auto& fs : kPseudoFilesystems) {
        if (fs.magic == type) return fs.name;
    }
    return nullptr;
}

/// True when `dir` is on the filesystem mounted at the host's /dev. devtmpfs reports
/// tmpfs's magic number, so statfs cannot tell it; its device can. A /dev that is a
/// plain directory of "/" (inside a container) is no filesystem of its own.
bool isOnHostDev(const struct stat& dir) {
    struct stat dev {};
    struct stat root {};
    if (::stat("/dev", &dev) != 0 || ::stat("/", &root) != 0) return false;
    return dev.st_dev != root.st_dev && dir.st_dev == dev.st_dev;
}
// END SOLUTION

}  // namespace

void validateRootfs(const std::string& dir) {
    // BEGIN SOLUTION: todo("TODO (lab 02): check --rootfs (an absolute path to a directory of its own)", dir);
    const auto invalid = [&](std::string_view why) {
        return UsageError(fmt::format("invalid --rootfs {} ({})", quoted(dir), why));
    };
    // A relative path would depend on where the runtime happens to be started.
    if (dir.empty() || dir.front() != '/') throw invalid("must be an absolute path");

    // Open it once (O_PATH: nothing is read) and check what it resolved to.
    const UniqueFd fd(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!fd) {
        const int err = errno;
        if (err == ENOENT) throw invalid("no such directory");
        if (err == ENOTDIR) throw invalid("not a directory");
        throw invalid(std::strerror(err));
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) throw SysError("fstat", dir);

    // The host's own root, /etc or /usr would get the container's mount points made in
    // the host's files, and give the container the host's programs: refuse them. Tell
    // them by device and inode, not by name: "/etc/." or a symlink to /etc is /etc too.
    if (const char* system = hostSystemDirectory(st)) {
        if (std::string_view(system) == "/") throw invalid("is the host's root directory");
        throw invalid(fmt::format("is the host's own {} directory, not a root filesystem", system));
    }
    // /proc, /sys, a cgroup hierarchy: the kernel makes them up, nothing can be created
    // there (mkdir fails with a message that does not say why). As given, too: a magic
    // link such as /proc/self/cwd resolves here to a directory it will not name later.
    const char* tree = kernelTreeOf(dir);
    if (tree == nullptr) tree = kernelTreeOf(resolvedPath(fd.get()));
    if (tree != nullptr) {
        throw invalid(fmt::format("is inside the host's {}, not a root filesystem", tree));
    }
    // Nor a directory on a pseudo-filesystem mounted elsewhere (fstatfs(2) f_type), nor
    // on the host's /dev (devtmpfs reports tmpfs's magic number: its device tells it).
    struct statfs fs {};
    if (::fstatfs(fd.get(), &fs) != 0) throw SysError("fstatfs", dir);
    if (const char* name = pseudoFilesystemName(fs.f_type)) {
        throw invalid(
            fmt::format("is on the kernel's {} pseudo-filesystem, not a root filesystem", name));
    }
    if (isOnHostDev(st)) throw invalid("is on the host's /dev (devtmpfs), not a root filesystem");
    // END SOLUTION
}

}  // namespace mydocker::rootfs
