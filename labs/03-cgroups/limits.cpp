// Lab 03: the flags --cpus, --cpu-shares, --cpuset-cpus and --pids-limit, checked
// before anything is created, and the arithmetic that turns them into cgroup values.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "mydocker/cgroups.hpp"
#include "mydocker/error.hpp"
#include "mydocker/file.hpp"

namespace mydocker::cgroups {

std::uint64_t cfsQuotaMicros(double cpus) {
    // Hint: 1.5 CPUs may run 150 ms in every 100 ms period (on two CPUs at once, say).
    todo("TODO (lab 03): the CFS quota of N CPUs per period", cpus);
}

std::uint64_t cpuWeightFromShares(std::uint64_t shares) {
    // Hints:
    // - Both ends map onto each other; the log2 of the shares goes through a quadratic
    //   that also maps the default 1024 onto the default weight 100 (runc >= 1.3.2,
    //   crun >= 1.23): 2 -> 1, 1024 -> 100, 262144 -> 10000. The linear mapping used
    //   before gave 1024 shares a weight of 39: a container with the default shares got
    //   less CPU than a systemd service with the default weight. (The handout,
    //   docs/labs/03-cgroups.md, gives the formula.)
    // - Rounded up, as runc and crun round it: the same shares give the same weight.
    todo("TODO (lab 03): convert v1 cpu.shares to a v2 cpu.weight", shares);
}

std::vector<unsigned> parseCpuList(std::string_view list, std::string_view what) {
    // Hints:
    // - Bounded before anything is expanded: a kernel has at most 8192 CPUs (the largest
    //   CONFIG_NR_CPUS), so no list of real CPUs has more items, nor a larger CPU number.
    // - Each item is "N" or "N-M" with N <= M.
    // - A range is expanded one CPU at a time: "0-4294967295" would take gigabytes.
    // - splitList drops empty items: ",", "" or "1,,2" would pass unnoticed otherwise.
    todo("TODO (lab 03): parse a CPU list such as 0-3,5", list, what);
}

std::vector<unsigned> onlineCpus() {
    // The kernel's own list of the CPUs that can run tasks now, e.g. "0-1".
    return parseCpuList(readLine("/sys/devices/system/cpu/online"));
}

double parseCpus(std::string_view text, std::size_t onlineCount) {
    // Hint: std::from_chars accepts "inf" and "nan": check std::isfinite too.
    todo("TODO (lab 03): parse --cpus: a number from 0.01 to the CPUs online", text, onlineCount);
}

std::uint64_t parseCpuShares(std::string_view text) {
    todo("TODO (lab 03): parse --cpu-shares: an integer from 2 to 262144", text);
}

std::string parseCpusetCpus(std::string_view text, const std::vector<unsigned>& online) {
    // Hint: The kernel would refuse the write (EINVAL) later; say why now, before anything exists.
    todo("TODO (lab 03): parse --cpuset-cpus and check every CPU is online", text, online);
}

std::int64_t parsePidsLimit(std::string_view text) {
    // Hint: Docker takes 0 and -1 as "unlimited"; here no flag means unlimited, and a limit
    // that allows nothing (not even CMD) is a mistake worth reporting.
    todo("TODO (lab 03): parse --pids-limit: an integer from 1 to 4194304 (kMaxPidsLimit)", text);
}

}  // namespace mydocker::cgroups
