#include "support/host_state.hpp"

#include <dirent.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <set>
#include <sstream>
#include <thread>

#include "mydocker/error.hpp"
#include "mydocker/file.hpp"
#include "mydocker/process.hpp"
#include "support/kernel_state.hpp"

namespace mydocker::test {
namespace {

using namespace std::chrono_literals;

/// Where a runtime that ignores --root, or keeps run-time files, would write.
const std::vector<std::string> kStateDirs = {"/var/lib/mydocker", "/run/mydocker"};
/// Shared directories in which a name containing "mydocker" is the runtime's.
const std::vector<std::string> kSharedDirs = {"/tmp", "/var/tmp", "/run", "/var/lib", "/dev/shm"};
/// How deep to list the state directories: enough to see containers/<id>/state.json.
constexpr int kStateDepth = 4;
/// How long TearDown waits for a killed process tree, or a cgroup's last task, to go away.
constexpr auto kSettleTime = 5s;
constexpr auto kPollInterval = 20ms;

/// The sysctl lab 06 turns on with its first network.
constexpr const char* kIpForward = "/proc/sys/net/ipv4/ip_forward";

/// The words of a line of `iptables -S`: split at spaces, "quoted strings" kept whole.
std::vector<std::string> splitRuleLine(const std::string& line) {
    std::vector<std::string> words;
    std::string word;
    bool quoted = false;
    bool any = false;
    for (const char c : line) {
        if (c == '"') {
            quoted = !quoted;
            any = true;
        } else if (c == ' ' && !quoted) {
            if (any) words.push_back(word);
            word.clear();
            any = false;
        } else {
            word += c;
            any = true;
        }
    }
    if (any) words.push_back(word);
    return words;
}

/// The named network namespaces (`ip netns add`), none if /run/netns does not exist.
std::set<std::string> namedNetns() {
    std::set<std::string> names;
    if (!isDirectory("/run/netns")) return names;
    for (const auto& name : listDir("/run/netns")) names.insert(name);
    return names;
}

bool containsMydocker(const std::string& name) {
    return name.find("mydocker") != std::string::npos;
}

// Directory entries that tolerate the directory vanishing under us (cgroups come and go).
std::vector<std::string> entriesOf(const std::string& dir) {
    std::vector<std::string> names;
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return names;
    while (const dirent* entry = ::readdir(d)) {
        const std::string name = entry->d_name;
        if (name == "." || name == "..") continue;
        if (entry->d_type == DT_DIR || entry->d_type == DT_UNKNOWN) names.push_back(name);
    }
    ::closedir(d);
    return names;
}

// The pids in a cgroup, for a message ("" if it is gone).
std::string tasksOf(const std::string& cgroupDir) {
    try {
        std::string tasks = readLine(joinPath(cgroupDir, "cgroup.procs"));
        std::replace(tasks.begin(), tasks.end(), '\n', ' ');
        return tasks;
    } catch (const std::exception&) {
        return {};
    }
}

bool isDirectoryNoFollow(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// Collects the *mydocker* cgroup directories below `dir` (all of them below a match).
void walkCgroups(const std::string& dir, bool insideMatch, std::set<std::string>& found) {
    for (const auto& name : entriesOf(dir)) {
        const std::string path = joinPath(dir, name);
        if (!isDirectoryNoFollow(path)) continue;
        const bool match = insideMatch || containsMydocker(name);
        if (match) found.insert(path);
        walkCgroups(path, match, found);
    }
}

// Every path below `dir`, `depth` levels deep at most.
void listTree(const std::string& dir, int depth, std::set<std::string>& found) {
    if (depth == 0) return;
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return;
    std::vector<std::string> names;
    while (const dirent* entry = ::readdir(d)) {
        const std::string name = entry->d_name;
        if (name != "." && name != "..") names.push_back(name);
    }
    ::closedir(d);
    for (const auto& name : names) {
        const std::string path = joinPath(dir, name);
        found.insert(path);
        if (isDirectoryNoFollow(path)) listTree(path, depth - 1, found);
    }
}

std::set<std::string> runtimeFiles() {
    std::set<std::string> found;
    for (const auto& dir : kSharedDirs) {
        DIR* d = ::opendir(dir.c_str());
        if (d == nullptr) continue;
        while (const dirent* entry = ::readdir(d)) {
            const std::string name = entry->d_name;
            // The harness's own directories (of this and of any other test process).
            if (name.rfind(kTestDirPrefix, 0) == 0) continue;
            if (containsMydocker(name)) found.insert(joinPath(dir, name));
        }
        ::closedir(d);
    }
    for (const auto& dir : kStateDirs) listTree(dir, kStateDepth, found);
    return found;
}

std::set<std::string> hostMountKeys() {
    std::set<std::string> keys;
    for (const auto& m : mountInfo()) keys.insert(mountKey(m.id, m.device, m.mountPoint, m.fsType));
    return keys;
}

bool isUnder(const std::string& path, const std::string& dir) {
    return path == dir || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
                           (dir.back() == '/' || path[dir.size()] == '/'));
}

// Reaps every exited child of ours that is not in `keep` (with PR_SET_CHILD_SUBREAPER,
// orphans of the runtime become our children too).
void reapChildren(const std::set<pid_t>& keep) {
    for (const pid_t child : childrenOf(::getpid())) {
        if (keep.count(child) != 0) continue;
        int status = 0;
        ::waitpid(child, &status, WNOHANG);
    }
}

}  // namespace

std::string mountKey(int id, const std::string& device, const std::string& mountPoint,
                     const std::string& fsType) {
    return fmt::format("{} {} {} {}", id, device, mountPoint, fsType);
}

std::set<std::string> mydockerCgroupDirs() {
    std::set<std::string> found;
    for (const auto& mountPoint : cgroupMountPoints()) walkCgroups(mountPoint, false, found);
    return found;
}

HostSnapshot HostSnapshot::take() {
    HostSnapshot snapshot;
    snapshot.mounts = hostMountKeys();
    snapshot.cgroupDirs = mydockerCgroupDirs();
    for (const pid_t pid : descendantsOf(::getpid())) snapshot.processes.insert(pid);
    snapshot.files = runtimeFiles();
    snapshot.links = hostLinks();
    snapshot.rules = runtimeRules();
    snapshot.ipForward = readLine(kIpForward);
    snapshot.netns = namedNetns();
    return snapshot;
}

std::set<std::string> hostLinks() {
    const auto names = entriesOf("/sys/class/net");
    return {names.begin(), names.end()};
}

std::set<std::string> runtimeRules() {
    std::set<std::string> rules;
    for (const char* table : {"filter", "nat"}) {
        ProcessResult result;
        try {
            result = runProcess({"iptables", "-w", "10", "-t", table, "-S"});
        } catch (const Error&) {
            return rules;  // no iptables on this host: no lab that needs it runs here
        }
        std::istringstream lines(result.out);
        std::string line;
        while (std::getline(lines, line)) {
            if (line.find("mydocker") != std::string::npos ||
                line.find("MYDOCKER") != std::string::npos) {
                rules.insert(fmt::format("{} {}", table, line));
            }
        }
    }
    return rules;
}

std::vector<std::string> cleanLeakedNetwork(const HostSnapshot& before) {
    std::vector<std::string> leaks;
    // A veth pair goes with the namespace of its peer, a moment after its last process.
    const auto deadline = std::chrono::steady_clock::now() + kSettleTime;
    std::set<std::string> links = hostLinks();
    const auto newLinks = [&] {
        std::vector<std::string> found;
        for (const auto& link : links) {
            if (before.links.count(link) == 0) found.push_back(link);
        }
        return found;
    };
    while (!newLinks().empty() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(kPollInterval);
        links = hostLinks();
    }
    for (const auto& link : newLinks()) {
        leaks.push_back(fmt::format("a network interface: {}", link));
        runProcess({"ip", "link", "del", link});
    }
    // Rules before chains: a chain is deleted only once empty and unreferenced.
    std::vector<std::string> chains;
    for (const auto& entry : runtimeRules()) {
        if (before.rules.count(entry) != 0) continue;
        leaks.push_back(fmt::format("an iptables rule or chain: -t {}", entry));
        const auto space = entry.find(' ');
        const std::string table = entry.substr(0, space);
        std::vector<std::string> words = splitRuleLine(entry.substr(space + 1));
        if (words.size() >= 2 && words[0] == "-N") {
            chains.push_back(table + " " + words[1]);
            continue;
        }
        if (words.empty() || words[0] != "-A") continue;
        words[0] = "-D";
        std::vector<std::string> argv = {"iptables", "-w", "10", "-t", table};
        argv.insert(argv.end(), words.begin(), words.end());
        runProcess(argv);
    }
    for (const auto& chain : chains) {
        const auto space = chain.find(' ');
        runProcess(
            {"iptables", "-w", "10", "-t", chain.substr(0, space), "-F", chain.substr(space + 1)});
        runProcess(
            {"iptables", "-w", "10", "-t", chain.substr(0, space), "-X", chain.substr(space + 1)});
    }
    if (const std::string now = readLine(kIpForward); now != before.ipForward) {
        leaks.push_back(
            fmt::format("net.ipv4.ip_forward changed from {} to {}", before.ipForward, now));
        writeFile(kIpForward, before.ipForward + "\n");
    }
    for (const auto& ns : namedNetns()) {
        if (before.netns.count(ns) != 0) continue;
        leaks.push_back(fmt::format("a network namespace: {}", ns));
        runProcess({"ip", "netns", "del", ns});
    }
    return leaks;
}

std::vector<std::string> cleanStrayProcesses(const HostSnapshot& before) {
    std::vector<std::string> leaks;
    std::set<pid_t> reported;
    const auto deadline = std::chrono::steady_clock::now() + kSettleTime;
    for (;;) {
        reapChildren(before.processes);
        bool anyLeft = false;
        for (const pid_t pid : descendantsOf(::getpid())) {
            if (before.processes.count(pid) != 0) continue;
            anyLeft = true;
            const char state = processState(pid);
            if (state == 0 || state == 'Z' || state == 'X') continue;  // dead, only unreaped
            if (reported.insert(pid).second) {
                leaks.push_back(fmt::format("a process still running: pid {} ({}), state {}", pid,
                                            commandLineOf(pid), state));
            }
            ::kill(pid, SIGKILL);
        }
        if (!anyLeft) break;
        if (std::chrono::steady_clock::now() > deadline) {
            leaks.push_back("processes that would not die within 5 s of SIGKILL");
            break;
        }
        std::this_thread::sleep_for(kPollInterval);
    }
    return leaks;
}

std::vector<std::string> cleanLeakedMounts(const HostSnapshot& before) {
    std::vector<std::string> leaks;
    auto mounts = mountInfo();
    // mountinfo lists parents before children: undo from the end.
    std::reverse(mounts.begin(), mounts.end());
    for (const auto& m : mounts) {
        if (before.mounts.count(mountKey(m.id, m.device, m.mountPoint, m.fsType)) != 0) continue;
        std::string message = "a mount on the host: " + m.describe();
        if (::umount2(m.mountPoint.c_str(), MNT_DETACH) != 0) {
            message += fmt::format(" (umount2 failed: {})", std::strerror(errno));
        }
        leaks.push_back(message);
    }
    return leaks;
}

std::vector<std::string> cleanLeakedCgroups(const HostSnapshot& before) {
    std::vector<std::string> leaks;
    std::vector<std::string> fresh;
    for (const auto& dir : mydockerCgroupDirs()) {
        if (before.cgroupDirs.count(dir) == 0) fresh.push_back(dir);
    }
    // Children before parents: a cgroup with sub-cgroups cannot be removed.
    std::sort(fresh.begin(), fresh.end(),
              [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
    for (const auto& dir : fresh) {
        std::string message = "a cgroup: " + dir;
        // A killed task leaves its cgroup a moment after it is reaped: retry on EBUSY.
        const auto deadline = std::chrono::steady_clock::now() + kSettleTime;
        while (::rmdir(dir.c_str()) != 0 && errno != ENOENT) {
            if (errno != EBUSY || std::chrono::steady_clock::now() > deadline) {
                const int err = errno;
                message +=
                    fmt::format(" (rmdir failed: {}; tasks: {})", std::strerror(err), tasksOf(dir));
                break;
            }
            std::this_thread::sleep_for(kPollInterval);
        }
        leaks.push_back(message);
    }
    return leaks;
}

std::vector<std::string> cleanLeakedFiles(const HostSnapshot& before) {
    std::vector<std::string> leaks;
    std::vector<std::string> fresh;
    for (const auto& path : runtimeFiles()) {
        if (before.files.count(path) == 0) fresh.push_back(path);
    }
    // Parents first: removing one removes what is below it.
    std::sort(fresh.begin(), fresh.end());
    std::string removed;
    for (const auto& path : fresh) {
        if (!removed.empty() && isUnder(path, removed)) continue;
        std::string message = "a file outside the test's directories: " + path;
        const std::string why = removeTree(path);
        if (!why.empty()) message += " (" + why + ")";
        removed = path;
        leaks.push_back(message);
    }
    return leaks;
}

std::string removeTree(const std::string& path) {
    // The runtime's own removal: the same guarantees, one implementation.
    try {
        removeAll(path);
    } catch (const std::exception& e) {
        return fmt::format("not removed: {}", e.what());
    }
    return {};
}

}  // namespace mydocker::test
