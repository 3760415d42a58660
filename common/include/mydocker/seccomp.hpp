/// @file
/// @brief Lab 10's seccomp filter (given): Docker's default denials, through libseccomp.
///
/// Docker's default profile (moby's `profiles/seccomp/default.json`) allows about 300
/// system calls and refuses the rest with EPERM. This kit keeps the other side of it: it
/// allows everything but the calls that profile refuses to a container without extra
/// capabilities (loading kernel modules, kexec, the kernel keyring, mounting, namespaces,
/// reboot, the clock, tracing other processes' memory...). Each gets EPERM, not a kill,
/// so a program that probes for a feature falls back as it would without it.
#pragma once

#include <string>
#include <vector>

namespace mydocker::seccomp {

/// The system calls the filter refuses with EPERM (names as libseccomp knows them; a
/// name this architecture lacks is skipped).
const std::vector<std::string>& deniedSyscalls();

/// Loads the filter into this process (inherited across fork(2) and execve(2); it
/// cannot be removed). Call it while the process still has CAP_SYS_ADMIN: then the
/// kernel does not require no_new_privs, which would make setuid programs (su, ping)
/// useless in the container, as Docker's are not.
/// @throws Error naming the libseccomp call that failed
void loadDefaultFilter();

}  // namespace mydocker::seccomp
