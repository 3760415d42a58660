// Lab 10: `ps [-a] [-q]`, Docker's table of containers (given code).
#include <fmt/format.h>

#include <ctime>
#include <string>
#include <vector>

#include "containers.hpp"
#include "mydocker/config.hpp"
#include "mydocker/state.hpp"
#include "verbs.hpp"

namespace mydocker::driver {
namespace {

/// Seconds since the epoch of an RFC 3339 UTC time as nowRfc3339() writes it (0 if empty).
std::time_t parseTime(const std::string& text) {
    std::tm tm{};
    if (text.empty() || ::strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm) == nullptr) return 0;
    return ::timegm(&tm);
}

/// Docker's human duration (go-units HumanDuration): "Less than a second", "5 seconds",
/// "About a minute", "3 minutes", "About an hour", "2 hours", "3 days", "2 weeks",
/// "4 months", "2 years".
std::string humanDuration(long long seconds) {
    constexpr long long kMinute = 60, kHour = 3600, kDay = 86400;
    if (seconds < 1) return "Less than a second";
    if (seconds == 1) return "1 second";
    if (seconds < kMinute) return fmt::format("{} seconds", seconds);
    const long long minutes = seconds / kMinute;
    if (minutes == 1) return "About a minute";
    if (minutes < 60) return fmt::format("{} minutes", minutes);
    const long long hours = seconds / kHour;
    if (hours == 1) return "About an hour";
    if (hours < 48) return fmt::format("{} hours", hours);
    if (hours < 24 * 7 * 2) return fmt::format("{} days", seconds / kDay);
    if (hours < 24 * 30 * 2) return fmt::format("{} weeks", seconds / (7 * kDay));
    if (hours < 24 * 365 * 2) return fmt::format("{} months", seconds / (30 * kDay));
    return fmt::format("{} years", seconds / (365 * kDay));
}

std::string ago(const std::string& when, std::time_t now) {
    return humanDuration(static_cast<long long>(now - parseTime(when))) + " ago";
}

/// STATUS as docker shows it.
std::string statusOf(const ContainerState& s, std::time_t now) {
    if (isRunning(s))
        return "Up " + humanDuration(static_cast<long long>(now - parseTime(s.startedAt)));
    if (s.status == "exited" || s.status == "running") {
        return fmt::format("Exited ({}) {}", s.exitCode,
                           ago(s.finishedAt.empty() ? s.createdAt : s.finishedAt, now));
    }
    return "Created";
}

/// COMMAND as docker shows it: quoted, cut to 20 characters.
std::string commandOf(const ContainerState& s) {
    std::string text;
    for (const std::string& word : s.command) text += (text.empty() ? "" : " ") + word;
    constexpr std::size_t kWidth = 20;
    if (text.size() > kWidth) text = text.substr(0, kWidth - 1) + "…";
    return "\"" + text + "\"";
}

/// PORTS, as docker ps shows a running container's: "0.0.0.0:8080->80/tcp, ...".
std::string portsOf(const ContainerState& s) {
    if (!isRunning(s)) return "";
    std::string text;
    for (const std::string& port : s.ports) {
        const PublishedPort p = splitPublishedPort(port);
        text += fmt::format("{}{}:{}->{}", text.empty() ? "" : ", ",
                            p.hostIp.empty() ? "0.0.0.0" : p.hostIp, p.hostPort, p.containerPort);
    }
    return text;
}

}  // namespace

Verb addPsVerb(CLI::App& app, const Globals& globals) {
    CLI::App* ps = app.add_subcommand("ps", "List containers");
    struct Flags {
        bool all = false;
        bool quiet = false;
    };
    auto flags = std::make_shared<Flags>();
    ps->add_flag("-a,--all", flags->all, "Show all containers (default shows just running)");
    ps->add_flag("-q,--quiet", flags->quiet, "Only display container IDs");
    return Verb{
        ps, [flags, &globals] {
            const std::time_t now = std::time(nullptr);
            std::vector<std::vector<std::string>> rows;
            rows.push_back(
                {"CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"});
            for (const ContainerState& s : allContainers(globals.root)) {
                if (!flags->all && !isRunning(s)) continue;
                if (flags->quiet) {
                    fmt::print("{}\n", shortId(s.id));
                    continue;
                }
                rows.push_back({shortId(s.id), s.image.empty() ? s.rootfs : s.image, commandOf(s),
                                ago(s.createdAt, now), statusOf(s, now), portsOf(s), s.name});
            }
            if (flags->quiet) return 0;
            // Columns as wide as their widest cell, three spaces apart (docker's).
            std::vector<std::size_t> widths(rows.front().size(), 0);
            for (const auto& row : rows) {
                for (std::size_t i = 0; i < row.size(); ++i) {
                    widths[i] = std::max(widths[i], row[i].size());
                }
            }
            for (const auto& row : rows) {
                std::string line;
                for (std::size_t i = 0; i < row.size(); ++i) {
                    line +=
                        i + 1 == row.size() ? row[i] : fmt::format("{:<{}}   ", row[i], widths[i]);
                }
                while (!line.empty() && line.back() == ' ') line.pop_back();
                fmt::print("{}\n", line);
            }
            return 0;
        }};
}

}  // namespace mydocker::driver
