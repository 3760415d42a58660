// Lab 10: Docker's default hardening of a container: masked and read-only paths, and the
// capabilities it keeps. (Its seccomp filter is given: seccomp.hpp.)
#include <linux/capability.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "mydocker/error.hpp"
#include "mydocker/runtime.hpp"

namespace mydocker::runtime {

const std::vector<int>& defaultCapabilities() {
    // Docker's default set, CAP_MKNOD excepted (see runtime.hpp).
    static const std::vector<int> caps = {
        CAP_CHOWN,      CAP_DAC_OVERRIDE, CAP_FSETID,      CAP_FOWNER,  CAP_NET_RAW,
        CAP_SETGID,     CAP_SETUID,       CAP_SETFCAP,     CAP_SETPCAP, CAP_NET_BIND_SERVICE,
        CAP_SYS_CHROOT, CAP_KILL,         CAP_AUDIT_WRITE,
    };
    return caps;
}

const std::vector<std::string>& maskedPaths() {
    static const std::vector<std::string> paths = {
        "/proc/asound",
        "/proc/acpi",
        "/proc/kcore",
        "/proc/keys",
        "/proc/latency_stats",
        "/proc/timer_list",
        "/proc/timer_stats",
        "/proc/sched_debug",
        "/proc/scsi",
        "/sys/firmware",
        "/sys/devices/virtual/powercap",
    };
    return paths;
}

const std::vector<std::string>& readOnlyPaths() {
    static const std::vector<std::string> paths = {
        "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
    };
    return paths;
}

namespace {

/// The per-mount flags of the mount at `path`, as mount(2) takes them: a remount must
/// repeat them, or it clears them (a read-only /proc/sys would lose nosuid, noexec).
unsigned long mountFlagsOf(const std::string& path) {
    struct statvfs info {};
    if (::statvfs(path.c_str(), &info) != 0) throw SysError("statvfs", path);
    unsigned long flags = 0;
    if (info.f_flag & ST_NOSUID) flags |= MS_NOSUID;
    if (info.f_flag & ST_NODEV) flags |= MS_NODEV;
    if (info.f_flag & ST_NOEXEC) flags |= MS_NOEXEC;
    if (info.f_flag & ST_RDONLY) flags |= MS_RDONLY;
    return flags;
}

/// Hides `path`: /dev/null over a file, an empty read-only tmpfs over a directory.
void mask(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) return;  // this kernel has no such file: nothing to hide
        throw SysError("stat", path);
    }
    if (S_ISDIR(st.st_mode)) {
        if (::mount("tmpfs", path.c_str(), "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                    "size=0") != 0) {
            throw SysError("mount tmpfs", path);
        }
        return;
    }
    if (::mount("/dev/null", path.c_str(), nullptr, MS_BIND, nullptr) != 0) {
        throw SysError("mount --bind /dev/null", path);
    }
}

/// Makes `path` read-only: a bind mount onto itself (a mount of its own), remounted
/// read-only with its other flags kept.
void makeReadOnly(const std::string& path) {
    if (::access(path.c_str(), F_OK) != 0) return;
    if (::mount(path.c_str(), path.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
        throw SysError("mount --bind", path);
    }
    const unsigned long flags = mountFlagsOf(path) | MS_REMOUNT | MS_BIND | MS_RDONLY;
    if (::mount(nullptr, path.c_str(), nullptr, flags, nullptr) != 0) {
        throw SysError("mount -o remount,ro", path);
    }
}

}  // namespace

void maskPaths() {
    // Hint: While we still have CAP_SYS_ADMIN: after dropCapabilities() no mount(2) works, and
    // that is the point (the container cannot unmount the masks either).
    todo("TODO (lab 10): mask maskedPaths() and make readOnlyPaths() read-only", mask, makeReadOnly);
}

void dropCapabilities(const std::vector<int>& keep) {
    // Hints:
    // - The bounding set first: it caps what any later execve(2) can give back (a root
    //   process's exec gets its whole bounding set as permitted). Dropping needs CAP_SETPCAP,
    //   which capset below may remove: so before it.
    // - Version 3: two 32-bit words per set, for capabilities 0..63.
    // - glibc has no wrapper for capset(2) (libcap has one): the raw system call.
    todo("TODO (lab 10): drop the rest of the bounding set, clear the ambient set, capset(2) the others", keep);
}

}  // namespace mydocker::runtime
