// The container's side of the run pipeline: what the child does once the runtime has
// released it, in its new namespaces, before it becomes CMD.
//
// A failure is sent to the runtime over the report pipe ("<exit code> <message>"), which
// prints it and undoes the start: the child's stderr may already be the container's.
#include <fmt/format.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "hardening.hpp"
#include "lab.hpp"
#include "mydocker/error.hpp"
#include "mydocker/file.hpp"
#include "mydocker/log.hpp"
#include "mydocker/namespaces.hpp"
#include "mydocker/pty.hpp"
#include "mydocker/rootfs.hpp"
#include "mydocker/runtime.hpp"
#include "mydocker/signals.hpp"
#include "mydocker/volumes.hpp"
#include "pipeline.hpp"

namespace mydocker::driver {
namespace {

/// Does the child's step `name` (logged at debug level, named in its errors).
template <class Do>
void childStep(const std::string& name, Do&& action) {
    log::debug("step (container): {}", name);
    withContext(name, std::forward<Do>(action));
}

/// Sends a failure over the report pipe as "<code> <message>".
void sendFailure(int reportFd, const Error& error) {
    const std::string report = fmt::format("{} {}", error.exitCode(), error.what());
    [[maybe_unused]] const ssize_t n = ::write(reportFd, report.data(), report.size());
}

/// Lab 10: moves this process (one thread) into its cgroup, "0" into each file.
[[maybe_unused]] void joinCgroup(const std::vector<std::string>& files) {
    for (const std::string& file : files) writeFile(file, "0");
}

/// Lab 03, v2 hosts: a cgroup namespace of its own, so that CMD sees its cgroup as `/`.
/// Not at clone(2): a cgroup namespace is rooted at the cgroup its creator is in, so
/// only once we are in the container's.
void enterCgroupNamespace() {
    childStep("enter a cgroup namespace", [] {
        if (::unshare(CLONE_NEWCGROUP) != 0) throw SysError("unshare", "CLONE_NEWCGROUP");
    });
}

/// Lab 10: blocks until the runtime's go (its network wired, its ports published).
/// False on EOF: the runtime gave up on the start and undoes it.
[[maybe_unused]] bool awaitGo(int goFd) {
    log::debug("step (container): wait for the go to exec CMD");
    char go = 0;
    ssize_t n;
    do {
        n = ::read(goFd, &go, 1);
    } while (n < 0 && errno == EINTR);
    return n == 1;
}

/// CMD's working directory (lab 05: the image's WorkingDir), made if the image lacks it,
/// as docker does.
void enterWorkingDir(const std::string& dir) {
    constexpr unsigned kWorkingDirMode = 0755;
    makeDirs(dir, kWorkingDirMode);
    if (::chdir(dir.c_str()) != 0) throw SysError("chdir", dir);
}

/// Lab 02's plan of the container's root, with lab 09's volumes mounted where the
/// binds go: after the root is a mount point, before pivot_root (while the host's
/// sources are reachable). The plan is applied in two parts around them.
[[maybe_unused]] void setUpRootWithVolumes(const rootfs::RootfsSpec& root) {
    if constexpr (lab >= 9) {  // only the lab 09 executable on links mountVolumes()
        const std::vector<rootfs::MountStep> plan = rootfs::planContainerRoot(root);
        const auto pivot = std::find_if(
            plan.begin(), plan.end(),
            [](const rootfs::MountStep& step) { return step.kind == rootfs::StepKind::pivotRoot; });
        rootfs::applyPlan({plan.begin(), pivot});
        childStep("mount the volumes", [&] { volumes::mountVolumes(root.rootfs, root.volumes); });
        rootfs::applyPlan({pivot, plan.end()});
    }
}

/// The container's mounts: its own root (lab 02, or lab 05's image on overlay) or,
/// without one, the host's root with a /proc of its own (lab 01).
void setUpMounts(const rootfs::RootfsSpec& root) {
    if constexpr (lab >= 2) {
        if (!root.rootfs.empty()) {
            childStep("set up the root filesystem", [&] {
                if (lab >= 9 && !root.volumes.empty()) {
                    setUpRootWithVolumes(root);
                } else {
                    rootfs::applyPlan(rootfs::planContainerRoot(root));
                }
            });
            return;
        }
    }
    childStep("mount /proc", [] { ns::remountProc(); });
}

}  // namespace

std::vector<std::string> containerEnvironment(const RunConfig& config) {
    std::vector<std::string> env = {
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOSTNAME=" + config.hostname,
        "HOME=/root",
    };
    const auto nameOf = [](const std::string& variable) {
        return variable.substr(0, variable.find('='));
    };
    for (const std::string& variable : config.env) {
        const auto same = std::find_if(env.begin(), env.end(), [&](const std::string& known) {
            return nameOf(known) == nameOf(variable);
        });
        if (same != env.end()) {
            *same = variable;
        } else {
            env.push_back(variable);
        }
    }
    return env;
}

int childMain(const RunConfig& config, const rootfs::RootfsSpec& root, const ChildIo& io) {
    try {
        if constexpr (lab >= 10) {
            // First, before anything else runs in this process (pipeline.cpp: why here).
            childStep("join its cgroup", [&] { joinCgroup(io.cgroupFiles); });
        }
        if constexpr (lab >= 3) {
            if (config.cgroupNamespace) enterCgroupNamespace();
        }
        setUpMounts(root);
        if constexpr (lab >= 5) {
            if (!config.workingDir.empty()) {
                childStep("enter the working directory",
                          [&] { enterWorkingDir(config.workingDir); });
            }
        }
        childStep("set the hostname", [&] { ns::setHostname(config.hostname); });
        if constexpr (lab >= 10) {
            if (io.console >= 0) {
                // Once /dev/pts is the container's own devpts; before the capabilities go.
                childStep("open its terminal", [&] {
                    const pty::Pty terminal = pty::open();
                    pty::sendFd(io.console, terminal.master.get());
                    pty::becomeTerminal(terminal.peer.get());
                });
            }
            // Once the mounts are made: masking needs mount(2), which the capabilities
            // dropped below take away for good.
            childStep("mask paths", [] { runtime::maskPaths(); });
            // CMD finds its network wired and its ports published: the runtime says when.
            if (!awaitGo(io.go)) return kRuntimeFailure;
            childStep("harden: seccomp, drop capabilities", [] { hardenProcess(); });
        }
        signals::resetForExec();
        ns::execCommand(config.command, containerEnvironment(config));
    } catch (const Error& e) {
        sendFailure(io.report, e);
        return e.exitCode();
    } catch (const std::exception& e) {
        sendFailure(io.report, Error(e.what()));
    }
    return kRuntimeFailure;
}

}  // namespace mydocker::driver
