/// @file
/// @brief Lab 03 contract: a container's cgroup, on cgroup v1, hybrid and v2 hosts.
///
/// A control group limits what its processes may use. The kernel offers two versions
/// of the interface, and a host mounts them in one of three ways (Mode):
///
/// - **legacy** (v1): one hierarchy per controller, e.g. `/sys/fs/cgroup/cpu`,
///   `/sys/fs/cgroup/memory`; a container has one directory in each.
/// - **hybrid**: the v1 hierarchies, plus an (almost empty) v2 hierarchy at
///   `/sys/fs/cgroup/unified` that holds no controllers. Limits are v1's.
/// - **unified** (v2): one hierarchy at `/sys/fs/cgroup`; a container has one directory,
///   and its parents must enable the controllers in `cgroup.subtree_control`.
///
/// Cgroup hides the difference: V1Cgroup and V2Cgroup implement it, and
/// createForContainer() picks one from the mode, detected once. Both take their cgroup
/// root as a parameter, so unit tests run them against a fake tree in a temporary
/// directory. Every container lives at `mydocker/<id>` below each root.
///
/// The life of a container's cgroup, in the order the runtime uses it:
/// @code
/// auto cgroup = cgroups::createForContainer(id, limits);  // mkdir + limits
/// cgroup->attach(childPid);     // before the child runs CMD: its children inherit it
/// ...                           // CMD runs, and ends
/// cgroup->destroy();            // kill what is left, rmdir
/// @endcode
///
/// Implemented in `labs/03-cgroups/` (student) and `solutions/03-cgroups/`.
/// Kernel documentation: cgroups(7), Documentation/admin-guide/cgroup-v2.rst,
/// Documentation/admin-guide/cgroup-v1/{cgroups,cpusets,pids}.rst,
/// Documentation/scheduler/sched-bwc.rst (CFS bandwidth control).
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mydocker/config.hpp"

namespace mydocker::cgroups {

/// Where every current distribution mounts its cgroup filesystems.
inline constexpr const char* kDefaultRoot = "/sys/fs/cgroup";

/// The cgroup, below each root, that holds every container's: `mydocker/<id>`.
inline constexpr const char* kParentName = "mydocker";

/// How the host mounts cgroups.
enum class Mode {
    legacy,   ///< v1 only: one hierarchy per controller
    hybrid,   ///< v1 controllers, plus an empty v2 hierarchy at `<root>/unified`
    unified,  ///< v2 only: one hierarchy at the root
};

/// "legacy", "hybrid" or "unified".
std::string_view modeName(Mode mode);

/// Tells the mode from the filesystem types of `root` and `root/unified`, as runc and
/// crun do: statfs(2) says cgroup2 for the root (unified), or tmpfs for the root and
/// cgroup2 for `unified` (hybrid), or tmpfs for the root and nothing more (legacy).
/// @throws SysError if statfs(2) fails on `root`;
///         Error if `root` holds no cgroup filesystem at all
Mode detectMode(const std::string& root = kDefaultRoot);

/// The host's mode: detectMode() of the default root, detected on first use only.
Mode hostMode();

/// The v1 controllers a container's cgroup joins, where the host has them: `cpuacct`
/// for CPU usage (a separate hierarchy from `cpu` on some hosts), `memory` for lab 04.
inline constexpr std::array<std::string_view, 5> kV1Controllers = {"cpu", "cpuacct", "cpuset",
                                                                   "memory", "pids"};

/// The v2 controllers enabled for containers, where the host offers them.
inline constexpr std::array<std::string_view, 4> kV2Controllers = {"cpu", "cpuset", "memory",
                                                                   "pids"};

/// Where each v1 controller's hierarchy is mounted: `"cpu"` -> `"/sys/fs/cgroup/cpu"`.
/// Two controllers mounted together (`cpu,cpuacct`) map to the same directory.
using ControllerMounts = std::map<std::string, std::string, std::less<>>;

/// Finds the v1 hierarchies in the text of a `/proc/self/mountinfo`: the mounts of type
/// `cgroup` whose super options name one of kV1Controllers (`rw,cpu,cpuacct`). The first
/// mount of a controller wins. Pure: no syscalls, so tests can feed it any mount table.
ControllerMounts parseV1Mounts(std::string_view mountinfo);

/// parseV1Mounts() of this process's `/proc/self/mountinfo`.
/// @throws SysError if it cannot be read
ControllerMounts hostV1Mounts();

/// The relative path of a container's cgroup below a root: `mydocker/<id>`.
std::string containerPath(const std::string& id);

/// The CFS period the runtime uses, as Docker: 100 ms.
inline constexpr std::uint64_t kCfsPeriodMicros = 100'000;

/// The CFS quota for `cpus` CPUs per kCfsPeriodMicros, rounded to the microsecond.
std::uint64_t cfsQuotaMicros(double cpus);

/// v1 `cpu.shares` (2..262144, default 1024) to v2 `cpu.weight` (1..10000, default 100),
/// as runc (1.3.2 and later) and crun (1.23 and later) convert it: with `l = log2(shares)`,
/// `ceil(10^((l*l + 125*l) / 612 - 7/34))`, a quadratic in l that maps the minimum, the
/// default and the maximum onto each other: 2 -> 1, 1024 -> 100, 262144 -> 10000.
/// Shares below 2 give 1, above 262144 give 10000. (The linear `1 + (shares - 2) * 9999
/// / 262142` of older runtimes gave the default 1024 shares a weight of 39.)
std::uint64_t cpuWeightFromShares(std::uint64_t shares);

/// What a cgroup has used so far, by the kernel's own accounting.
struct Usage {
    std::uint64_t cpuMicros = 0;  ///< CPU time of all its processes, in microseconds
    std::uint64_t tasks = 0;      ///< processes and threads in it now (`pids.current`)
};

/// A container's cgroup. One implementation per cgroup version; the runtime only sees
/// this interface. Not copyable: it names kernel state that destroy() removes.
class Cgroup {
public:
    Cgroup() = default;
    Cgroup(const Cgroup&) = delete;
    Cgroup& operator=(const Cgroup&) = delete;
    virtual ~Cgroup() = default;

    /// 1 or 2: which interface the files below follow.
    virtual int version() const = 0;

    /// Makes the cgroup's directories (and `mydocker/` if needed), ready for processes:
    /// v1 copies `cpuset.cpus` and `cpuset.mems` from the parent into each new cpuset
    /// cgroup; v2 enables the controllers in each ancestor's `cgroup.subtree_control`.
    /// A failure half-way removes what was made.
    /// @throws SysError naming the mkdir(2) or the write that failed
    virtual void create() = 0;

    /// Writes the lab 03 limits (CPU quota, shares, cpuset, pids) that are set in `limits`;
    /// the memory limit is lab 04's (memory.hpp).
    /// @throws Error if a limit needs a controller the host does not offer;
    ///         SysError if the kernel rejects a value
    virtual void applyLimits(const ResourceLimits& limits) = 0;

    /// Moves process `pid` into the cgroup (every hierarchy, on v1). Its future
    /// children are born in it.
    /// @throws SysError if the write to `cgroup.procs` fails
    virtual void attach(pid_t pid) = 0;

    /// The cgroup's CPU time and task count.
    /// @throws SysError if a counter cannot be read
    virtual Usage usage() const = 0;

    /// SIGKILLs every process in the cgroup: `cgroup.kill` where the kernel has it
    /// (v2, Linux 5.14+), else each pid of `cgroup.procs`.
    virtual void killAll() = 0;

    /// Removes the cgroup: kills what is left in it, then rmdir(2)s its directories,
    /// retrying for a bounded time while the kernel still sees it busy; then removes
    /// `mydocker/` too if no other container uses it. Safe to call twice.
    /// @throws SysError (or Error after the bounded wait) if a directory stays
    virtual void destroy() = 0;

    /// True when the cgroup has `controller` ("cpu", "memory", ...) on this host.
    virtual bool hasController(std::string_view controller) const = 0;

    /// The directory holding `controller`'s files for this cgroup.
    /// @throws Error if the host does not offer `controller`
    virtual std::string directory(std::string_view controller) const = 0;

    /// The path of one of `controller`'s files, e.g. ("memory", "memory.max").
    std::string filePath(std::string_view controller, std::string_view file) const;

    /// True when `controller` is offered and its `file` exists (some are optional:
    /// `memory.swap.max` needs swap accounting, `cgroup.kill` Linux 5.14).
    bool hasFile(std::string_view controller, std::string_view file) const;

    /// Reads one of `controller`'s files, without its trailing newline.
    std::string read(std::string_view controller, std::string_view file) const;

    /// Writes `value` to one of `controller`'s files (logged at debug level).
    void write(std::string_view controller, std::string_view file, std::string_view value) const;
};

/// The v1 implementation: one directory per hierarchy, `<mount>/<path>`.
class V1Cgroup : public Cgroup {
public:
    /// A cgroup at `path` (e.g. `mydocker/<id>`) below each hierarchy in `mounts` that
    /// holds one of kV1Controllers. Nothing is created until create().
    V1Cgroup(ControllerMounts mounts, std::string path);

    int version() const override { return 1; }
    void create() override;
    void applyLimits(const ResourceLimits& limits) override;
    void attach(pid_t pid) override;
    Usage usage() const override;
    void killAll() override;
    void destroy() override;
    bool hasController(std::string_view controller) const override;
    std::string directory(std::string_view controller) const override;

private:
    /// The hierarchies' mount points this cgroup lives in, each once (co-mounted
    /// controllers share one).
    std::vector<std::string> hierarchies() const;

    ControllerMounts mounts_;  // only the controllers of kV1Controllers
    std::string path_;
};

/// The v2 implementation: one directory, `<root>/<path>`.
class V2Cgroup : public Cgroup {
public:
    /// A cgroup at `path` (e.g. `mydocker/<id>`) below the unified hierarchy mounted at
    /// `root`. Nothing is created until create().
    V2Cgroup(std::string root, std::string path);

    int version() const override { return 2; }
    void create() override;
    void applyLimits(const ResourceLimits& limits) override;
    void attach(pid_t pid) override;
    Usage usage() const override;
    void killAll() override;
    void destroy() override;
    bool hasController(std::string_view controller) const override;
    std::string directory(std::string_view controller) const override;

private:
    std::string root_;
    std::string path_;
};

/// A Cgroup of the right version for `mode`, at `mydocker/<id>` below `root` (v2) or
/// below each of the hierarchies mounted under it (v1, from `mounts`). Not created yet.
std::unique_ptr<Cgroup> cgroupFor(Mode mode, const std::string& id,
                                  const std::string& root = kDefaultRoot,
                                  const ControllerMounts& mounts = {});

/// The runtime's entry point: the host's kind of Cgroup for container `id`, created and
/// with the lab 03 limits of `limits` applied, ready for attach(). Undone if it fails.
/// @throws Error (with SysError inside) naming what failed
std::unique_ptr<Cgroup> createForContainer(const std::string& id, const ResourceLimits& limits);

// --- what both implementations use ---------------------------------------------------

/// Makes one cgroup directory with mkdir(2). An existing one is used as it is
/// (`mkdir -p`, as runc): `mydocker/` is shared by every container.
/// @return true when this call made it
/// @throws SysError for any mkdir(2) error but EEXIST
bool makeCgroupDir(const std::string& dir);

/// rmdir(2) of a directory that other containers may still use (`mydocker/`): EBUSY
/// (it has child cgroups), ENOTEMPTY and ENOENT are fine.
/// @throws SysError for any other error
void removeIfUnused(const std::string& dir);

/// Removes one cgroup directory: rmdir(2); while the kernel answers EBUSY (processes
/// still exiting), SIGKILLs what `cgroup.procs` lists and retries, for at most
/// `timeoutMillis`. A directory already gone is fine.
/// @throws SysError for any other rmdir error; Error if still busy at the deadline
void removeCgroupDir(const std::string& dir, int timeoutMillis = 5000);

/// The pids listed in a cgroup directory's `cgroup.procs`.
/// @throws SysError if the file cannot be read
std::vector<pid_t> readProcs(const std::string& dir);

/// SIGKILLs every process listed in a cgroup directory's `cgroup.procs`, once.
/// A process that exits meanwhile is fine; a directory that does not exist holds none.
/// @throws SysError if kill(2) fails otherwise
void killProcs(const std::string& dir);

/// Parses a "flat keyed" cgroup file (`cpu.stat`, `memory.events`): one `key value`
/// pair per line. Lines that do not fit are skipped.
std::map<std::string, std::uint64_t, std::less<>> parseFlatKeyed(std::string_view content);

/// The non-empty pieces of `text` between `separator`s ("cpu memory" -> {cpu, memory}).
std::vector<std::string> splitList(std::string_view text, char separator);

// --- the flags of lab 03, checked before anything is created -------------------------

/// The CPUs that are online, from `/sys/devices/system/cpu/online`.
/// @throws SysError if it cannot be read
std::vector<unsigned> onlineCpus();

/// Parses a CPU list as the kernel writes it ("0-3,5", "1"): sorted, without duplicates.
/// Every CPU number is below 8192 (the largest NR_CPUS of any kernel) and the list has at
/// most 8192 items, checked before a range is expanded: "0-4294967295" is refused at once.
/// @param list the text to parse
/// @param what names the list in the error: `invalid <what> "<list>" (<why>)`
/// @throws UsageError naming the list and what is wrong with it
std::vector<unsigned> parseCpuList(std::string_view list, std::string_view what = "CPU list");

/// `--cpus N.N`: a number of CPUs from 0.01 (Docker's minimum: a 1 ms quota per 100 ms)
/// to the number of online CPUs.
/// @throws UsageError (exit 125) for anything else
double parseCpus(std::string_view text, std::size_t onlineCount = onlineCpus().size());

/// `--cpu-shares N`: an integer from 2 to 262144 (the kernel's bounds for cpu.shares).
/// @throws UsageError otherwise
std::uint64_t parseCpuShares(std::string_view text);

/// `--cpuset-cpus LIST`: a CPU list whose CPUs are all in `online`. Returns the list.
/// @throws UsageError naming the first CPU that is not online, or the syntax error
std::string parseCpusetCpus(std::string_view text,
                            const std::vector<unsigned>& online = onlineCpus());

/// The most tasks `--pids-limit` accepts: the kernel's PID_MAX_LIMIT.
inline constexpr std::int64_t kMaxPidsLimit = 4 * 1024 * 1024;

/// `--pids-limit N`: an integer from 1 to kMaxPidsLimit.
/// @throws UsageError otherwise
std::int64_t parsePidsLimit(std::string_view text);

}  // namespace mydocker::cgroups
