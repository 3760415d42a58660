/// @file
/// @brief Kernel state, read straight from /proc and /sys, never through the runtime.
///
/// The tests judge a lab by what the kernel says: namespace inodes, mount tables,
/// cgroup membership, process trees. These helpers read them the way `ls -l /proc/PID/ns`,
/// `cat /proc/PID/mountinfo` and `cat /proc/PID/cgroup` would, so a test's verdict never
/// depends on the code under test.
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mydocker::test {

/// An O_PATH descriptor of the host's /proc, opened on first use (main() uses it before
/// any test). Every /proc read here goes through it, so a broken container that mounts its
/// own procfs over the host's /proc (mounts not made private) cannot blind the tests or
/// the leak check: lookups through this fd start below any mount stacked on /proc.
/// @throws mydocker::SysError if /proc cannot be opened
int hostProc();

/// Reads /proc/`relative` of the host ("self/mountinfo", "1234/status").
/// @throws mydocker::SysError (e.g. ENOENT when the process is gone)
std::string readProcFile(const std::string& relative);

/// readlink of /proc/`relative` of the host ("1234/ns/uts", "self/exe").
/// @throws mydocker::SysError
std::string readProcLink(const std::string& relative);

/// The names in the host's /proc/`relative` directory, sorted, without "." and "..".
/// @throws mydocker::SysError
std::vector<std::string> listProcDir(const std::string& relative);

/// The target of /proc/PID/ns/NS, e.g. nsLink(pid, "uts") == "uts:[4026531838]".
/// Two processes share a namespace exactly when these links are equal.
/// @throws mydocker::SysError if the process or the namespace file does not exist
std::string nsLink(pid_t pid, const std::string& ns);

/// One line of /proc/PID/mountinfo (proc(5)), octal escapes (`\040`) decoded.
struct MountInfo {
    int id = 0;          ///< mount ID, unique while the mount exists
    int parent = 0;      ///< the parent mount's ID
    std::string device;  ///< "major:minor" of the filesystem (st_dev)
    std::string root;    ///< the directory of the filesystem mounted here ("/" or a bind source)
    std::string mountPoint;    ///< where it is mounted, relative to the reader's root
    std::string options;       ///< per-mount options ("rw,nosuid,relatime")
    std::string propagation;   ///< optional fields, e.g. "shared:1" or "master:2", "" if private
    std::string fsType;        ///< filesystem type ("proc", "overlay", "cgroup2")
    std::string source;        ///< mount source ("proc", "/dev/vda", "overlay")
    std::string superOptions;  ///< per-superblock options

    /// One line for messages: "42 /proc (proc proc, dev 0:21, root /)".
    std::string describe() const;
};

/// The parsed /proc/PID/mountinfo of `pid`, in the kernel's order (parents first).
/// @throws mydocker::SysError if the process does not exist
std::vector<MountInfo> mountInfo(pid_t pid);

/// The parsed /proc/self/mountinfo: the test process's (the host's) mount table, without
/// the mounts systemd makes and removes by itself (/run/credentials/*, /run/user/*,
/// binfmt_misc), which come and go while the tests run.
std::vector<MountInfo> mountInfo();

/// Parses the text of a mountinfo file (also what `probe mountinfo` prints).
std::vector<MountInfo> parseMountInfo(const std::string& text);

/// The last mount at `mountPoint` in `mounts` (the one that is visible), if any.
std::optional<MountInfo> findMount(const std::vector<MountInfo>& mounts,
                                   const std::string& mountPoint);

/// /proc/PID/cgroup as a map: controller list -> cgroup path. v1 lines are keyed by their
/// controllers as the kernel lists them ("cpu", "cpu,cpuacct", "name=systemd"); the v2
/// line ("0::/path") is keyed by "".
std::map<std::string, std::string> cgroupsOf(pid_t pid);

/// Parses the text of a /proc/PID/cgroup file (also what `probe cgroup` prints).
std::map<std::string, std::string> parseCgroups(const std::string& text);

/// How the host mounts its cgroups.
enum class CgroupMode {
    v1,      ///< legacy: one cgroup v1 hierarchy per controller, no cgroup2
    hybrid,  ///< v1 controllers plus an (almost empty) cgroup2 at /sys/fs/cgroup/unified
    v2,      ///< unified: /sys/fs/cgroup is cgroup2
};

/// Detects the host's cgroup mode from the test process's mount table.
CgroupMode cgroupMode();

/// "v1", "hybrid" or "v2", for messages.
std::string toString(CgroupMode mode);

/// The mount points of every cgroup (v1) and cgroup2 filesystem on the host.
std::vector<std::string> cgroupMountPoints();

/// The directory, on the host, of the cgroup `pid` is in for `controller` ("memory",
/// "pids", "cpu", ...): on v1 the hierarchy that has that controller, else the cgroup2
/// hierarchy if the controller is available there. An empty controller means the cgroup2
/// directory. Nothing if the controller is mounted nowhere.
std::optional<std::string> cgroupDirOf(pid_t pid, const std::string& controller);

/// The direct children of `pid` (from /proc/PID/task/TID/children of all its threads).
/// Empty if the process no longer exists.
std::vector<pid_t> childrenOf(pid_t pid);

/// Every descendant of `pid`: children, their children, and so on.
std::vector<pid_t> descendantsOf(pid_t pid);

/// The state letter of a process from /proc/PID/stat ('R', 'S', 'Z', ...), or 0 if it
/// does not exist.
char processState(pid_t pid);

/// The command line of a process, arguments separated by spaces, for messages.
std::string commandLineOf(pid_t pid);

/// The host's hostname (gethostname(2)).
std::string hostHostname();

/// A CPU number this host does not have: one past the last CPU it could ever bring online
/// (the larger of the last numbers in /sys/devices/system/cpu/possible and .../online).
/// @throws mydocker::SysError if neither list can be read
int absentCpu();

}  // namespace mydocker::test
