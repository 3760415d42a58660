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

// BEGIN SOLUTION
namespace {

/// Docker's smallest --cpus: a 1 ms quota per 100 ms period (the kernel's minimum quota).
constexpr double kMinCpus = 0.01;

/// The kernel's bounds for v1 cpu.shares (and Docker's for --cpu-shares).
constexpr std::uint64_t kMinShares = 2;
constexpr std::uint64_t kMaxShares = 262'144;

/// The v2 cpu.weight range.
constexpr std::uint64_t kMinWeight = 1;
constexpr std::uint64_t kMaxWeight = 10'000;

/// The most CPUs a Linux kernel can have: the largest CONFIG_NR_CPUS (x86-64 with
/// MAXSMP, powerpc). CPU numbers are below it; a list is checked against it before
/// any range is expanded, so "0-4294967295" costs nothing.
constexpr unsigned kMaxCpus = 8192;

/// Parses all of `text` as a number of type T, or nothing: no sign, no spaces, no
/// trailing characters ("5x"), no overflow.
template <class T>
std::optional<T> parseWhole(std::string_view text) {
    T value{};
    const char* end = text.data() + text.size();
    const auto [stop, error] = std::from_chars(text.data(), end, value);
    if (error != std::errc() || stop != end || text.empty()) return std::nullopt;
    return value;
}

/// A CPU list as the kernel prints it: the ranges of `cpus`, e.g. "0-3,5".
std::string formatCpuList(const std::vector<unsigned>& cpus) {
    std::string list;
    for (std::size_t i = 0; i < cpus.size();) {
        std::size_t j = i;
        while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1) ++j;
        if (!list.empty()) list += ',';
        list += i == j ? fmt::format("{}", cpus[i]) : fmt::format("{}-{}", cpus[i], cpus[j]);
        i = j + 1;
    }
    return list;
}

}  // namespace
// END SOLUTION

std::uint64_t cfsQuotaMicros(double cpus) {
    // BEGIN SOLUTION: todo("TODO (lab 03): the CFS quota of N CPUs per period", cpus);
    // 1.5 CPUs may run 150 ms in every 100 ms period (on two CPUs at once, say).
    return static_cast<std::uint64_t>(std::llround(cpus * static_cast<double>(kCfsPeriodMicros)));
    // END SOLUTION
}

std::uint64_t cpuWeightFromShares(std::uint64_t shares) {
    // BEGIN SOLUTION: todo("TODO (lab 03): convert v1 cpu.shares to a v2 cpu.weight", shares);
    // Both ends map onto each other; the log2 of the shares goes through a quadratic
    // that also maps the default 1024 onto the default weight 100 (runc >= 1.3.2,
    // crun >= 1.23): 2 -> 1, 1024 -> 100, 262144 -> 10000. The linear mapping used
    // before gave 1024 shares a weight of 39: a container with the default shares got
    // less CPU than a systemd service with the default weight. (The handout,
    // docs/labs/03-cgroups.md, gives the formula.)
    if (shares <= kMinShares) return kMinWeight;
    if (shares >= kMaxShares) return kMaxWeight;
    const double l = std::log2(static_cast<double>(shares));
    const double exponent = (l * l + 125 * l) / 612.0 - 7.0 / 34.0;
    // Rounded up, as runc and crun round it: the same shares give the same weight.
    return static_cast<std::uint64_t>(std::ceil(std::pow(10.0, exponent)));
    // END SOLUTION
}

std::vector<unsigned> parseCpuList(std::string_view list, std::string_view what) {
    // BEGIN SOLUTION: todo("TODO (lab 03): parse a CPU list such as 0-3,5", list, what);
    const auto invalid = [&](std::string_view why) {
        return UsageError(fmt::format("invalid {} {} ({})", what, quoted(list), why));
    };
    // Bounded before anything is expanded: a kernel has at most 8192 CPUs (the largest
    // CONFIG_NR_CPUS), so no list of real CPUs has more items, nor a larger CPU number.
    if (static_cast<std::size_t>(std::count(list.begin(), list.end(), ',')) >= kMaxCpus) {
        throw invalid(fmt::format("more than {} items", kMaxCpus));
    }
    std::set<unsigned> cpus;
    for (const std::string& item : splitList(list, ',')) {
        // Each item is "N" or "N-M" with N <= M.
        const std::size_t dash = item.find('-');
        const auto first = parseWhole<unsigned>(std::string_view(item).substr(0, dash));
        const auto last = dash == std::string::npos
                              ? first
                              : parseWhole<unsigned>(std::string_view(item).substr(dash + 1));
        if (!first || !last) throw invalid(fmt::format("{} is not N or N-M", quoted(item)));
        if (*first > *last) throw invalid(fmt::format("range {} is backwards", quoted(item)));
        // A range is expanded one CPU at a time: "0-4294967295" would take gigabytes.
        if (*last >= kMaxCpus) {
            throw invalid(fmt::format("CPU {} cannot exist: the kernel numbers CPUs below {}",
                                      *last, kMaxCpus));
        }
        for (unsigned cpu = *first; cpu <= *last; ++cpu) cpus.insert(cpu);
    }
    // splitList drops empty items: ",", "" or "1,,2" would pass unnoticed otherwise.
    if (cpus.empty() || list.front() == ',' || list.back() == ',' ||
        list.find(",,") != std::string_view::npos) {
        throw invalid("expected CPU numbers and ranges separated by commas");
    }
    return {cpus.begin(), cpus.end()};
    // END SOLUTION
}

std::vector<unsigned> onlineCpus() {
    // The kernel's own list of the CPUs that can run tasks now, e.g. "0-1".
    return parseCpuList(readLine("/sys/devices/system/cpu/online"));
}

double parseCpus(std::string_view text, std::size_t onlineCount) {
    // BEGIN SOLUTION: todo("TODO (lab 03): parse --cpus: a number from 0.01 to the CPUs online", text, onlineCount);
    const auto cpus = parseWhole<double>(text);
    const double most = static_cast<double>(onlineCount);
    // std::from_chars accepts "inf" and "nan": check std::isfinite too.
    if (!cpus || !std::isfinite(*cpus) || *cpus < kMinCpus || *cpus > most) {
        throw UsageError(fmt::format("invalid --cpus {} (must be a number from {} to {}, "
                                     "the CPUs online)",
                                     quoted(text), kMinCpus, onlineCount));
    }
    return *cpus;
    // END SOLUTION
}

std::uint64_t parseCpuShares(std::string_view text) {
    // BEGIN SOLUTION: todo("TODO (lab 03): parse --cpu-shares: an integer from 2 to 262144", text);
    const auto shares = parseWhole<std::uint64_t>(text);
    if (!shares || *shares < kMinShares || *shares > kMaxShares) {
        throw UsageError(fmt::format("invalid --cpu-shares {} (must be an integer from {} to {})",
                                     quoted(text), kMinShares, kMaxShares));
    }
    return *shares;
    // END SOLUTION
}

std::string parseCpusetCpus(std::string_view text, const std::vector<unsigned>& online) {
    // BEGIN SOLUTION: todo("TODO (lab 03): parse --cpuset-cpus and check every CPU is online", text, online);
    const std::vector<unsigned> cpus = parseCpuList(text, "--cpuset-cpus");
    // The kernel would refuse the write (EINVAL) later; say why now, before anything exists.
    for (const unsigned cpu : cpus) {
        if (std::find(online.begin(), online.end(), cpu) == online.end()) {
            throw UsageError(fmt::format("invalid --cpuset-cpus {} (CPU {} is not online; "
                                         "online: {})",
                                         quoted(text), cpu, formatCpuList(online)));
        }
    }
    return formatCpuList(cpus);
    // END SOLUTION
}

std::int64_t parsePidsLimit(std::string_view text) {
    // BEGIN SOLUTION: todo("TODO (lab 03): parse --pids-limit: an integer from 1 to 4194304 (kMaxPidsLimit)", text);
    // Docker takes 0 and -1 as "unlimited"; here no flag means unlimited, and a limit
    // that allows nothing (not even CMD) is a mistake worth reporting.
    const auto limit = parseWhole<std::int64_t>(text);
    if (!limit || *limit < 1 || *limit > kMaxPidsLimit) {
        throw UsageError(fmt::format("invalid --pids-limit {} (must be an integer from 1 to {})",
                                     quoted(text), kMaxPidsLimit));
    }
    return *limit;
    // END SOLUTION
}

}  // namespace mydocker::cgroups
