// Lab 10: joining a running container from outside: what `exec` does before it forks.
#include <fcntl.h>
#include <fmt/format.h>
#include <sched.h>
#include <unistd.h>

#include "mydocker/error.hpp"
#include "mydocker/runtime.hpp"

namespace mydocker::runtime {

ContainerHandles openContainer(pid_t pid, const std::vector<std::string>& procsFiles) {
    ContainerHandles handles;
    // Hint: Everything first, nothing joined yet: once in the container's mount namespace, the
    // host's /proc and /sys/fs/cgroup are out of reach, and the container may be gone
    // half-way (then nothing was joined and the error is clean).
    todo("TODO (lab 10): open /proc/PID/ns/<name> for each of kJoinOrder, and each cgroup.procs file", pid, procsFiles, handles);
    return handles;
}

void joinNamespaces(const ContainerHandles& handles) {
    // Hint: nstype 0: the kernel checks the fd's type itself. A namespace the container
    // shares with the host (--net host) is joined too: that changes nothing.
    todo("TODO (lab 10): setns(2) into each namespace, in kJoinOrder (mount last)", handles);
}

void joinCgroup(const ContainerHandles& handles) {
    // Hints:
    // - "0" is the writing process itself: its pid in the container's namespace would do
    //   too, but the file was opened on the host's side and "0" needs no translation.
    // - Now its /proc/self/cgroup reads as the container's PID 1's does (`0::/` on v2).
    todo("TODO (lab 10): write this process into each cgroup.procs opened before, then setns(2) its cgroup namespace", handles);
}

}  // namespace mydocker::runtime
