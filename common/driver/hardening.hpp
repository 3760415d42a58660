// Lab 10 in the driver (given): the hardening of a container's processes, in its order.
#pragma once

namespace mydocker::driver {

/// Hardens this process as Docker does by default, just before it execs a container's
/// command: the seccomp filter (while CAP_SYS_ADMIN spares it no_new_privs), then the
/// capabilities dropped to the default set. The masked and read-only paths come before,
/// in PID 1's child only (runtime::maskPaths(), which needs mount(2)); exec's process
/// finds them in the mount namespace it joins.
/// @throws Error naming the step that failed
void hardenProcess();

}  // namespace mydocker::driver
