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
    // BEGIN SOLUTION: todo("TODO (lab 10): open /proc/PID/ns/<name> for each of kJoinOrder, and each cgroup.procs file", pid, procsFiles, handles);
    // Everything first, nothing joined yet: once in the container's mount namespace, the
    // host's /proc and /sys/fs/cgroup are out of reach, and the container may be gone
    // half-way (then nothing was joined and the error is clean).
    for (const std::string& name : kJoinOrder) {
        const std::string path = fmt::format("/proc/{}/ns/{}", pid, name);
        UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
        if (!fd) throw SysError("open", path);
        handles.namespaces.emplace_back(name, std::move(fd));
    }
    const std::string cgroupNs = fmt::format("/proc/{}/ns/cgroup", pid);
    handles.cgroupNamespace = UniqueFd(::open(cgroupNs.c_str(), O_RDONLY | O_CLOEXEC));
    if (!handles.cgroupNamespace) throw SysError("open", cgroupNs);
    for (const std::string& path : procsFiles) {
        UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
        if (!fd) throw SysError("open", path);
        handles.cgroupProcs.push_back(std::move(fd));
    }
    // END SOLUTION
    return handles;
}

void joinNamespaces(const ContainerHandles& handles) {
    // BEGIN SOLUTION: todo("TODO (lab 10): setns(2) into each namespace, in kJoinOrder (mount last)", handles);
    for (const auto& [name, fd] : handles.namespaces) {
        // nstype 0: the kernel checks the fd's type itself. A namespace the container
        // shares with the host (--net host) is joined too: that changes nothing.
        if (::setns(fd.get(), 0) != 0) throw SysError("setns", name);
    }
    // END SOLUTION
}

void joinCgroup(const ContainerHandles& handles) {
    // BEGIN SOLUTION: todo("TODO (lab 10): write this process into each cgroup.procs opened before, then setns(2) its cgroup namespace", handles);
    // "0" is the writing process itself: its pid in the container's namespace would do
    // too, but the file was opened on the host's side and "0" needs no translation.
    for (const UniqueFd& fd : handles.cgroupProcs) {
        if (::write(fd.get(), "0", 1) != 1) throw SysError("write", "cgroup.procs");
    }
    // Now its /proc/self/cgroup reads as the container's PID 1's does (`0::/` on v2).
    if (::setns(handles.cgroupNamespace.get(), CLONE_NEWCGROUP) != 0) {
        throw SysError("setns", "cgroup");
    }
    // END SOLUTION
}

}  // namespace mydocker::runtime
