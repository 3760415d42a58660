// Lab 10: stopping a container's PID 1, politely first, through a pidfd.
#include <poll.h>
#include <signal.h>
// glibc 2.36 (Debian 12) declares these without extern "C" (fixed in 2.37).
extern "C" {
#include <sys/pidfd.h>
}

#include <algorithm>
#include <cerrno>

#include "mydocker/error.hpp"
#include "mydocker/runtime.hpp"

namespace mydocker::runtime {

bool waitForExit(const UniqueFd& pidfd, std::chrono::milliseconds timeout) {
    todo("TODO (lab 10): a pidfd is readable once its process has exited: poll(2) it", pidfd, timeout);
}

int stopProcess(const UniqueFd& pidfd, std::chrono::milliseconds grace) {
    // Hints:
    // - pidfd_send_signal(2), not kill(2): the pidfd names this process and no other, even
    //   if it has exited and its pid has been given to someone else. ESRCH: already gone.
    // - SIGKILL cannot be ignored, even by a PID 1: it ends promptly (a process in
    //   uninterruptible sleep takes as long as its I/O).
    todo("TODO (lab 10): SIGTERM, wait up to the grace period, then SIGKILL, and wait", pidfd, grace);
}

}  // namespace mydocker::runtime
