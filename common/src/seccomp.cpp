#include "mydocker/seccomp.hpp"

#include <seccomp.h>

#include <cerrno>
#include <memory>

#include "mydocker/error.hpp"

namespace mydocker::seccomp {

const std::vector<std::string>& deniedSyscalls() {
    // Refused by Docker's default profile to a container without CAP_SYS_ADMIN,
    // CAP_SYS_MODULE, CAP_SYS_BOOT, CAP_SYS_TIME, CAP_SYS_PTRACE... (its "excludes"), or
    // never allowed at all.
    static const std::vector<std::string> names = {
        "acct",
        "add_key",
        "bpf",
        "clock_adjtime",
        "clock_settime",
        "create_module",
        "delete_module",
        "finit_module",
        "fsconfig",
        "fsmount",
        "fsopen",
        "fspick",
        "get_kernel_syms",
        "init_module",
        "ioperm",
        "iopl",
        "kcmp",
        "kexec_file_load",
        "kexec_load",
        "keyctl",
        "lookup_dcookie",
        "mount",
        "mount_setattr",
        "move_mount",
        "name_to_handle_at",
        "nfsservctl",
        "open_by_handle_at",
        "open_tree",
        "perf_event_open",
        "pivot_root",
        "process_vm_readv",
        "process_vm_writev",
        "quotactl",
        "reboot",
        "request_key",
        "setns",
        "settimeofday",
        "stime",
        "swapoff",
        "swapon",
        "_sysctl",
        "sysfs",
        "umount",
        "umount2",
        "unshare",
        "uselib",
        "userfaultfd",
        "ustat",
        "vm86",
        "vm86old",
    };
    return names;
}

void loadDefaultFilter() {
    using Context = std::unique_ptr<void, decltype(&seccomp_release)>;
    const Context context(seccomp_init(SCMP_ACT_ALLOW), &seccomp_release);
    if (!context) throw Error("seccomp_init failed");
    // libseccomp sets no_new_privs by default; the caller has CAP_SYS_ADMIN instead.
    if (const int rc = seccomp_attr_set(context.get(), SCMP_FLTATR_CTL_NNP, 0); rc != 0) {
        throw Error("seccomp_attr_set(SCMP_FLTATR_CTL_NNP): " + errnoName(-rc));
    }
    for (const std::string& name : deniedSyscalls()) {
        const int number = seccomp_syscall_resolve_name(name.c_str());
        if (number == __NR_SCMP_ERROR) continue;  // not on this architecture
        if (const int rc = seccomp_rule_add(context.get(), SCMP_ACT_ERRNO(EPERM), number, 0);
            rc != 0) {
            throw Error("seccomp_rule_add(" + name + "): " + errnoName(-rc));
        }
    }
    if (const int rc = seccomp_load(context.get()); rc != 0) {
        throw Error("seccomp_load: " + errnoName(-rc));
    }
}

}  // namespace mydocker::seccomp
