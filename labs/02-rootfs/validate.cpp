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

}  // namespace

void validateRootfs(const std::string& dir) {
    // Hints:
    // - A relative path would depend on where the runtime happens to be started.
    // - Open it once (O_PATH: nothing is read) and check what it resolved to.
    // - The host's own root, /etc or /usr would get the container's mount points made in
    //   the host's files, and give the container the host's programs: refuse them. Tell
    //   them by device and inode, not by name: "/etc/." or a symlink to /etc is /etc too.
    // - /proc, /sys, a cgroup hierarchy: the kernel makes them up, nothing can be created
    //   there (mkdir fails with a message that does not say why). As given, too: a magic
    //   link such as /proc/self/cwd resolves here to a directory it will not name later.
    // - Nor a directory on a pseudo-filesystem mounted elsewhere (fstatfs(2) f_type), nor
    //   on the host's /dev (devtmpfs reports tmpfs's magic number: its device tells it).
    todo("TODO (lab 02): check --rootfs (an absolute path to a directory of its own)", dir);
}

}  // namespace mydocker::rootfs
