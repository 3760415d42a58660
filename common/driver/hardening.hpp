// Lab 10 in the driver (given): the hardening of a container's processes, in its order.
#pragma once

namespace mydocker::driver {

/// Hardens this process as Docker does by default, before it execs a container's
/// command: masked and read-only paths (`withMounts`: PID 1's child, not exec, whose
/// mount namespace already has them), then the seccomp filter (while CAP_SYS_ADMIN
/// spares it no_new_privs), then the capabilities dropped to the default set.
/// @throws Error naming the step that failed
void hardenProcess(bool withMounts);

}  // namespace mydocker::driver
