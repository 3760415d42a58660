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
    todo("TODO (lab 03): the CFS quota of N CPUs per period", cpus);
}

std::uint64_t cpuWeightFromShares(std::uint64_t shares) {
    todo("TODO (lab 03): convert v1 cpu.shares to a v2 cpu.weight", shares);
}

std::vector<unsigned> parseCpuList(std::string_view list, std::string_view what) {
    todo("TODO (lab 03): parse a CPU list such as 0-3,5", list, what);
}

std::vector<unsigned> onlineCpus() {
    // The kernel's own list of the CPUs that can run tasks now, e.g. "0-1".
    return parseCpuList(readLine("/sys/devices/system/cpu/online"));
}

double parseCpus(std::string_view text, std::size_t onlineCount) {
    todo("TODO (lab 03): parse --cpus: a number from 0.01 to the CPUs online", text, onlineCount);
}

std::uint64_t parseCpuShares(std::string_view text) {
    todo("TODO (lab 03): parse --cpu-shares: an integer from 2 to 262144", text);
}

std::string parseCpusetCpus(std::string_view text, const std::vector<unsigned>& online) {
    todo("TODO (lab 03): parse --cpuset-cpus and check every CPU is online", text, online);
}

std::int64_t parsePidsLimit(std::string_view text) {
    todo("TODO (lab 03): parse --pids-limit: an integer from 1 to 4194304 (kMaxPidsLimit)", text);
}

}  // namespace mydocker::cgroups
