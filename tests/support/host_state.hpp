/// @file
/// @brief The leak check: what a test may leave behind on the host, before and after.
///
/// DESIGN.md: "the harness fails a test that leaves kernel state behind". LabTest takes a
/// HostSnapshot in SetUp and, in TearDown, asks each `clean*` function what is new since:
/// every function reports the leaks it found (one message each, naming the thing) and
/// removes them, so one test's leak never fails the next test.
///
/// Everything is compared with the snapshot, never with an ideal host: whatever existed
/// before the test (the host's own mounts, a user's /var/lib/mydocker) is left alone.
#pragma once

#include <sys/types.h>

#include <set>
#include <string>
#include <vector>

namespace mydocker::test {

/// The names of the harness's own temporary directories start with this (under /var/tmp).
inline constexpr const char* kTestDirPrefix = "mydocker-test.";

/// What a test could leak, captured at one moment.
struct HostSnapshot {
    /// The host's mounts (/proc/self/mountinfo), one key per mount: "ID DEV MOUNTPOINT TYPE".
    std::set<std::string> mounts;
    /// Every cgroup directory named *mydocker* (or below one), in every v1 and v2 hierarchy.
    std::set<std::string> cgroupDirs;
    /// The test process's descendants (normally none).
    std::set<pid_t> processes;
    /// Runtime state outside the test's --root: /var/lib/mydocker, /run/mydocker, and
    /// entries named *mydocker* in /tmp, /var/tmp, /run, /var/lib and /dev/shm.
    std::set<std::string> files;
    /// Lab 06 on: the host's network interfaces (names).
    std::set<std::string> links;
    /// Lab 06 on: the runtime's iptables rules and chains, every line of `iptables -t T -S`
    /// (filter and nat) that names "mydocker" or a MYDOCKER chain, as "T LINE".
    std::set<std::string> rules;
    /// Lab 06 on: net.ipv4.ip_forward ("0" or "1").
    std::string ipForward;
    /// Lab 06 on: the named network namespaces (/run/netns).
    std::set<std::string> netns;

    /// Captures the host now.
    static HostSnapshot take();
};

/// The key of one mount in HostSnapshot::mounts.
std::string mountKey(int id, const std::string& device, const std::string& mountPoint,
                     const std::string& fsType);

/// Every cgroup directory on the host whose name contains "mydocker", and all below them.
std::set<std::string> mydockerCgroupDirs();

/// Kills (SIGKILL) and reaps every descendant of this process that was not there in
/// `before`. Returns one message per process that was still alive (a zombie is not a leak).
std::vector<std::string> cleanStrayProcesses(const HostSnapshot& before);

/// Unmounts (lazily, deepest first) every host mount not in `before`; one message each.
std::vector<std::string> cleanLeakedMounts(const HostSnapshot& before);

/// Removes (deepest first) every *mydocker* cgroup directory not in `before`; one message each.
std::vector<std::string> cleanLeakedCgroups(const HostSnapshot& before);

/// Removes every runtime file outside the test's directories not in `before`; one message each.
std::vector<std::string> cleanLeakedFiles(const HostSnapshot& before);

/// Deletes every network interface, runtime rule and chain, and named netns not in
/// `before`, and puts ip_forward back; one message each.
std::vector<std::string> cleanLeakedNetwork(const HostSnapshot& before);

/// The host's interface names (/sys/class/net).
std::set<std::string> hostLinks();

/// The runtime's iptables rules and chains now (see HostSnapshot::rules).
std::set<std::string> runtimeRules();

/// rm -rf that never follows a symlink, never crosses into another filesystem, and refuses
/// to start while anything is mounted at or below `path` (a leaked bind mount of the host's
/// files must not be emptied through). Returns "" on success, else why it did not finish.
std::string removeTree(const std::string& path);

}  // namespace mydocker::test
