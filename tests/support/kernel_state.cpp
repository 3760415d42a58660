#include "support/kernel_state.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <limits.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <sstream>

#include "mydocker/error.hpp"
#include "mydocker/file.hpp"
#include "mydocker/unique_fd.hpp"

namespace mydocker::test {
namespace {

std::string procPath(pid_t pid, std::string_view file) {
    return fmt::format("{}/{}", pid, file);
}

bool isOctalDigit(char c) {
    return c >= '0' && c <= '7';
}

// mountinfo escapes space, tab, newline and backslash as \ooo (octal); undo that.
std::string decodeOctal(const std::string& field) {
    std::string out;
    for (std::size_t i = 0; i < field.size(); ++i) {
        if (field[i] == '\\' && i + 3 < field.size() && isOctalDigit(field[i + 1]) &&
            isOctalDigit(field[i + 2]) && isOctalDigit(field[i + 3])) {
            out += static_cast<char>((field[i + 1] - '0') * 64 + (field[i + 2] - '0') * 8 +
                                     (field[i + 3] - '0'));
            i += 3;
        } else {
            out += field[i];
        }
    }
    return out;
}

std::vector<std::string> splitOn(const std::string& text, char separator) {
    std::vector<std::string> parts;
    std::string part;
    std::istringstream stream(text);
    while (std::getline(stream, part, separator)) parts.push_back(part);
    return parts;
}

bool listContains(const std::string& commaList, const std::string& item) {
    const auto items = splitOn(commaList, ',');
    return std::find(items.begin(), items.end(), item) != items.end();
}

// A /proc file that may vanish while we read it (a process exits): empty instead of an error.
std::string readProcIfPresent(const std::string& relative) {
    try {
        return readProcFile(relative);
    } catch (const SysError&) {
        return {};
    }
}

// A file outside /proc that may vanish while we read it.
std::string readIfPresent(const std::string& path) {
    try {
        return readFile(path);
    } catch (const SysError&) {
        return {};
    }
}

}  // namespace

int hostProc() {
    // Opened once, before any container runs: the fd keeps pointing at the host's procfs
    // even if a container's procfs is later mounted on top of /proc.
    static const int fd = [] {
        const int opened = ::open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (opened < 0) throw SysError("open", "/proc");
        return opened;
    }();
    return fd;
}

std::string readProcFile(const std::string& relative) {
    UniqueFd fd(::openat(hostProc(), relative.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) throw SysError("open", "/proc/" + relative);
    std::string content;
    char buffer[4096];
    for (;;) {
        const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw SysError("read", "/proc/" + relative);
        if (n == 0) break;
        content.append(buffer, static_cast<std::size_t>(n));
    }
    return content;
}

std::string readProcLink(const std::string& relative) {
    char target[PATH_MAX];
    const ssize_t n = ::readlinkat(hostProc(), relative.c_str(), target, sizeof target - 1);
    if (n < 0) throw SysError("readlink", "/proc/" + relative);
    return std::string(target, static_cast<std::size_t>(n));
}

std::vector<std::string> listProcDir(const std::string& relative) {
    const int fd = ::openat(hostProc(), relative.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) throw SysError("open", "/proc/" + relative);
    DIR* dir = ::fdopendir(fd);  // owns fd from here on
    if (dir == nullptr) {
        const int err = errno;
        ::close(fd);
        throw SysError(err, "fdopendir", "/proc/" + relative);
    }
    std::vector<std::string> names;
    while (const dirent* entry = ::readdir(dir)) {
        const std::string_view name = entry->d_name;
        if (name != "." && name != "..") names.emplace_back(name);
    }
    ::closedir(dir);
    std::sort(names.begin(), names.end());
    return names;
}

std::string nsLink(pid_t pid, const std::string& ns) {
    return readProcLink(procPath(pid, "ns/" + ns));
}

std::string MountInfo::describe() const {
    return fmt::format("{} {} ({} {}, dev {}, root {}{}{})", id, mountPoint, fsType, source, device,
                       root, propagation.empty() ? "" : ", ", propagation);
}

std::vector<MountInfo> parseMountInfo(const std::string& text) {
    // 36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
    // (1)(2) (3)  (4)   (5)    (6)       (7...)  - (8)   (9)      (10)
    std::vector<MountInfo> mounts;
    for (const std::string& line : splitOn(text, '\n')) {
        std::istringstream fields(line);
        MountInfo m;
        if (!(fields >> m.id >> m.parent >> m.device >> m.root >> m.mountPoint >> m.options)) {
            continue;
        }
        std::string field;
        std::vector<std::string> optional;
        while (fields >> field && field != "-") optional.push_back(field);
        for (const auto& tag : optional) {
            if (!m.propagation.empty()) m.propagation += ' ';
            m.propagation += tag;
        }
        fields >> m.fsType >> m.source >> m.superOptions;
        m.root = decodeOctal(m.root);
        m.mountPoint = decodeOctal(m.mountPoint);
        m.source = decodeOctal(m.source);
        mounts.push_back(std::move(m));
    }
    return mounts;
}

std::vector<MountInfo> mountInfo(pid_t pid) {
    return parseMountInfo(readProcFile(procPath(pid, "mountinfo")));
}

std::vector<MountInfo> mountInfo() {
    // What systemd mounts and unmounts on its own, at any time: a service's credentials
    // (/run/credentials/UNIT, e.g. systemd-tmpfiles-clean 15 minutes after boot), a
    // user's runtime directory at login (/run/user/UID), binfmt_misc on first use. A
    // runtime makes none of them; counted, a leak check would blame the lab for them.
    const auto isSystemds = [](const MountInfo& m) {
        return m.mountPoint.starts_with("/run/credentials/") ||
               m.mountPoint.starts_with("/run/user/") ||
               m.mountPoint == "/proc/sys/fs/binfmt_misc";
    };
    auto mounts = parseMountInfo(readProcFile("self/mountinfo"));
    std::erase_if(mounts, isSystemds);
    return mounts;
}

std::optional<MountInfo> findMount(const std::vector<MountInfo>& mounts,
                                   const std::string& mountPoint) {
    // Later lines are mounted on top of earlier ones at the same place.
    for (auto it = mounts.rbegin(); it != mounts.rend(); ++it) {
        if (it->mountPoint == mountPoint) return *it;
    }
    return std::nullopt;
}

std::map<std::string, std::string> parseCgroups(const std::string& text) {
    // hierarchy-ID:controller-list:cgroup-path, e.g. "4:memory:/mydocker/c7f3" or "0::/x".
    std::map<std::string, std::string> cgroups;
    for (const std::string& line : splitOn(text, '\n')) {
        const auto first = line.find(':');
        if (first == std::string::npos) continue;
        const auto second = line.find(':', first + 1);
        if (second == std::string::npos) continue;
        cgroups[line.substr(first + 1, second - first - 1)] = line.substr(second + 1);
    }
    return cgroups;
}

std::map<std::string, std::string> cgroupsOf(pid_t pid) {
    return parseCgroups(readProcFile(procPath(pid, "cgroup")));
}

CgroupMode cgroupMode() {
    const auto mounts = mountInfo();
    const auto top = findMount(mounts, "/sys/fs/cgroup");
    if (top && top->fsType == "cgroup2") return CgroupMode::v2;
    for (const auto& m : mounts) {
        if (m.fsType == "cgroup2") return CgroupMode::hybrid;
    }
    return CgroupMode::v1;
}

std::string toString(CgroupMode mode) {
    switch (mode) {
        case CgroupMode::v1:
            return "v1";
        case CgroupMode::hybrid:
            return "hybrid";
        case CgroupMode::v2:
            return "v2";
    }
    return "?";
}

std::vector<std::string> cgroupMountPoints() {
    std::vector<std::string> points;
    for (const auto& m : mountInfo()) {
        if (m.fsType == "cgroup" || m.fsType == "cgroup2") points.push_back(m.mountPoint);
    }
    return points;
}

std::optional<std::string> cgroupDirOf(pid_t pid, const std::string& controller) {
    const auto cgroups = cgroupsOf(pid);
    const auto mounts = mountInfo();
    // The host path of `path` in the hierarchy mounted at `m` (whose root may be a subtree).
    auto hostPath = [](const MountInfo& m, const std::string& path) {
        std::string relative = path;
        if (m.root != "/" && relative.rfind(m.root, 0) == 0) relative.erase(0, m.root.size());
        return relative.empty() || relative == "/" ? m.mountPoint
                                                   : joinPath(m.mountPoint, relative);
    };
    if (!controller.empty()) {
        // v1: the hierarchy whose controller list names it ("cpu" is in "cpu,cpuacct").
        for (const auto& [controllers, path] : cgroups) {
            if (controllers.empty() || !listContains(controllers, controller)) continue;
            for (const auto& m : mounts) {
                if (m.fsType == "cgroup" && listContains(m.superOptions, controller)) {
                    return hostPath(m, path);
                }
            }
        }
    }
    const auto unified = cgroups.find("");
    if (unified == cgroups.end()) return std::nullopt;
    for (const auto& m : mounts) {
        if (m.fsType != "cgroup2") continue;
        if (!controller.empty()) {
            // cgroup2 lists the controllers it can enable in its root's cgroup.controllers.
            const auto available =
                splitOn(readIfPresent(joinPath(m.mountPoint, "cgroup.controllers")), ' ');
            bool found = false;
            for (auto name : available) {
                while (!name.empty() && name.back() == '\n') name.pop_back();
                found = found || name == controller;
            }
            if (!found) return std::nullopt;
        }
        return hostPath(m, unified->second);
    }
    return std::nullopt;
}

std::vector<pid_t> childrenOf(pid_t pid) {
    std::vector<pid_t> children;
    std::vector<std::string> tasks;
    try {
        tasks = listProcDir(procPath(pid, "task"));
    } catch (const SysError&) {
        return children;  // the process is gone
    }
    for (const auto& tid : tasks) {
        std::istringstream list(readProcIfPresent(fmt::format("{}/task/{}/children", pid, tid)));
        pid_t child = 0;
        while (list >> child) children.push_back(child);
    }
    std::sort(children.begin(), children.end());
    children.erase(std::unique(children.begin(), children.end()), children.end());
    return children;
}

std::vector<pid_t> descendantsOf(pid_t pid) {
    std::vector<pid_t> all;
    std::vector<pid_t> pending = childrenOf(pid);
    while (!pending.empty()) {
        const pid_t next = pending.back();
        pending.pop_back();
        all.push_back(next);
        for (const pid_t child : childrenOf(next)) pending.push_back(child);
    }
    std::sort(all.begin(), all.end());
    return all;
}

char processState(pid_t pid) {
    // pid (comm) S ...: comm may hold spaces and parentheses, so look after the last ')'.
    const std::string stat = readProcIfPresent(procPath(pid, "stat"));
    const auto close = stat.rfind(')');
    if (close == std::string::npos || close + 2 >= stat.size()) return 0;
    return stat[close + 2];
}

std::string commandLineOf(pid_t pid) {
    std::string line = readProcIfPresent(procPath(pid, "cmdline"));
    std::replace(line.begin(), line.end(), '\0', ' ');
    while (!line.empty() && line.back() == ' ') line.pop_back();
    if (line.empty()) line = "[" + readProcIfPresent(procPath(pid, "comm")) + "]";
    while (!line.empty() && line.back() == '\n') line.pop_back();
    return line;
}

int absentCpu() {
    // A CPU list ("0-3,8-11", "0"): its last number is the highest CPU in it.
    auto lastCpu = [](const std::string& list) {
        const auto start = list.find_last_of(",-");
        return std::stoi(start == std::string::npos ? list : list.substr(start + 1));
    };
    int last = -1;
    for (const char* file :
         {"/sys/devices/system/cpu/possible", "/sys/devices/system/cpu/online"}) {
        try {
            last = std::max(last, lastCpu(readLine(file)));
        } catch (const SysError&) {
            // One of the two is enough.
        }
    }
    if (last < 0) throw SysError("open", "/sys/devices/system/cpu/possible");
    return last + 1;
}

std::string hostHostname() {
    char name[HOST_NAME_MAX + 1] = {};
    if (::gethostname(name, sizeof name) != 0) throw SysError("gethostname");
    return name;
}

}  // namespace mydocker::test
