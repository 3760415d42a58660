#include "containers.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
// glibc 2.36 (Debian 12) declares these without extern "C" (fixed in 2.37).
extern "C" {
#include <sys/pidfd.h>
}
#include <unistd.h>

#include <algorithm>
#include <regex>

#include "mydocker/config.hpp"
#include "mydocker/error.hpp"
#include "mydocker/file.hpp"
#include "mydocker/log.hpp"
#include "mydocker/runtime.hpp"

namespace mydocker::driver {
namespace {

/// How often waitForMonitor looks again for a monitor it has no pidfd of.
std::vector<std::string> split(const std::string& text, char separator) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    for (std::size_t at; (at = text.find(separator, start)) != std::string::npos; start = at + 1) {
        parts.push_back(text.substr(start, at - start));
    }
    parts.push_back(text.substr(start));
    return parts;
}

/// An exclusive flock(2) held on a directory while it lives.
class DirLock {
  public:
    explicit DirLock(const std::string& dir)
        : fd_(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) {
        if (!fd_) throw SysError("open", dir);
        while (::flock(fd_.get(), LOCK_EX) != 0) {
            if (errno != EINTR) throw SysError("flock", dir);
        }
    }

  private:
    UniqueFd fd_;  // closing it releases the lock
};

}  // namespace

std::vector<ContainerState> allContainers(const std::string& root) {
    std::vector<ContainerState> states;
    const std::string dir = joinPath(root, "containers");
    if (!isDirectory(dir)) return states;
    for (const std::string& id : listDir(dir)) {
        try {
            if (pathExists(statePath(root, id))) states.push_back(loadState(root, id));
        } catch (const Error& e) {
            log::warn("container {}: {}", shortId(id), e.what());
        }
    }
    std::sort(states.begin(), states.end(), [](const ContainerState& a, const ContainerState& b) {
        return a.createdAt > b.createdAt;
    });
    return states;
}

ContainerState resolveContainer(const std::string& root, const std::string& ref) {
    const std::vector<ContainerState> states = allContainers(root);
    if (!ref.empty()) {
        // The full id or the name first: a name may look like the prefix of another id.
        for (const ContainerState& s : states) {
            if (s.id == ref || (!s.name.empty() && s.name == ref)) return s;
        }
        std::vector<const ContainerState*> matches;
        for (const ContainerState& s : states) {
            if (s.id.compare(0, ref.size(), ref) == 0) matches.push_back(&s);
        }
        if (matches.size() == 1) return *matches.front();
        if (matches.size() > 1) {
            throw UsageError(fmt::format("container prefix {} is ambiguous ({} containers match)",
                                         quoted(ref), matches.size()));
        }
    }
    throw UsageError(fmt::format("no such container: {} (see 'ps -a')", quoted(ref)));
}

void validateName(const std::string& name) {
    static const std::regex rule("[a-zA-Z0-9][a-zA-Z0-9_.-]+");
    if (!std::regex_match(name, rule)) {
        throw UsageError(
            fmt::format("invalid container name {} (only [a-zA-Z0-9][a-zA-Z0-9_.-]+ "
                        "are allowed)",
                        quoted(name)));
    }
}

void saveNewRecord(const std::string& root, const ContainerState& state) {
    // Check and write under one lock: two `run --name web` at once, one wins.
    const DirLock lock(root);
    if (!state.name.empty()) {
        for (const ContainerState& other : allContainers(root)) {
            if (other.id != state.id && other.name == state.name) {
                throw UsageError(fmt::format(
                    "the container name {} is already in use by container {} (remove it or "
                    "choose another name)",
                    quoted(state.name), shortId(other.id)));
            }
        }
    }
    makeDirs(containerDir(root, state.id), 0700);
    saveState(root, state);
}

PublishedPort splitPublishedPort(const std::string& port) {
    PublishedPort split;
    const auto last = port.rfind(':');
    split.containerPort = port.substr(last + 1);
    const std::string host = port.substr(0, last);
    const auto colon = host.rfind(':');
    if (colon != std::string::npos) split.hostIp = host.substr(0, colon);
    split.hostPort = colon == std::string::npos ? host : host.substr(colon + 1);
    return split;
}

bool isRunning(const ContainerState& state) {
    return state.status == "running" && processIsAlive(state.pid, state.pidStartTime);
}

std::optional<UniqueFd> openPidfd(pid_t pid, std::uint64_t startTime) {
    if (pid <= 0) return std::nullopt;
    UniqueFd fd(::pidfd_open(pid, 0));
    if (!fd) return std::nullopt;  // ESRCH: gone
    // The pidfd names whatever process has the pid now: it is ours only if it started
    // when ours did.
    if (!processIsAlive(pid, startTime)) return std::nullopt;
    return fd;
}

std::optional<ContainerState> waitForMonitor(const std::string& root, const ContainerState& state,
                                             std::chrono::milliseconds timeout) {
    if (auto monitor = openPidfd(state.monitorPid, state.monitorStartTime)) {
        if (!runtime::waitForExit(*monitor, timeout)) {
            throw Error(
                fmt::format("container {}: its monitor (pid {}) did not finish within {} s",
                            shortId(state.id), state.monitorPid,
                            std::chrono::duration_cast<std::chrono::seconds>(timeout).count()));
        }
    }
    // Its record is final now; or gone, with --rm.
    if (!pathExists(statePath(root, state.id))) return std::nullopt;
    return loadState(root, state.id);
}

std::string logPath(const std::string& root, const std::string& id) {
    return joinPath(containerDir(root, id), id + "-json.log");
}

std::vector<std::string> cgroupProcsFilesOf(pid_t pid) {
    // Each line of /proc/PID/cgroup is "ID:CONTROLLERS:PATH" (v2: "0::PATH"); each cgroup
    // mount in our mountinfo says which hierarchy it is by its type and super options.
    struct Hierarchy {
        std::string mountPoint;
        std::string mountRoot;
        std::vector<std::string> options;
        bool v2 = false;
    };
    std::vector<Hierarchy> hierarchies;
    for (const std::string& line : split(readFile("/proc/self/mountinfo"), '\n')) {
        const auto dash = line.find(" - ");
        if (dash == std::string::npos) continue;
        const std::vector<std::string> before = split(line.substr(0, dash), ' ');
        const std::vector<std::string> after = split(line.substr(dash + 3), ' ');
        if (before.size() < 5 || after.size() < 3) continue;
        if (after[0] != "cgroup" && after[0] != "cgroup2") continue;
        hierarchies.push_back({before[4], before[3], split(after[2], ','), after[0] == "cgroup2"});
    }
    std::vector<std::string> files;
    for (const std::string& line : split(readFile(fmt::format("/proc/{}/cgroup", pid)), '\n')) {
        const std::vector<std::string> fields = split(line, ':');
        if (fields.size() < 3) continue;
        const std::string path = line.substr(fields[0].size() + fields[1].size() + 2);
        const std::vector<std::string> controllers = split(fields[1], ',');
        for (const Hierarchy& h : hierarchies) {
            bool same = fields[1].empty() ? h.v2 : !h.v2;
            for (const std::string& c : controllers) {
                if (!c.empty() &&
                    std::find(h.options.begin(), h.options.end(), c) == h.options.end())
                    same = false;
            }
            if (!same || path.compare(0, h.mountRoot.size(), h.mountRoot) != 0) continue;
            const std::string relative =
                h.mountRoot == "/" ? path : path.substr(h.mountRoot.size());
            files.push_back(joinPath(joinPath(h.mountPoint, relative), "cgroup.procs"));
            break;
        }
    }
    return files;
}

int parseSeconds(const std::string& text, const std::string& flag) {
    static const std::regex number("[0-9]{1,6}");
    if (!std::regex_match(text, number)) {
        throw UsageError(fmt::format("invalid {} {} (a whole number of seconds, 0 or more)", flag,
                                     quoted(text)));
    }
    return std::stoi(text);
}

}  // namespace mydocker::driver
