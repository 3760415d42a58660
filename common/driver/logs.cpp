// Lab 10: `logs [-f] [--tail N] C`: a container's log, each line back on its own stream
// (given code: the monitor writes the log, lab 10's LogPump).
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <deque>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "containers.hpp"
#include "mydocker/error.hpp"
#include "mydocker/file.hpp"
#include "mydocker/unique_fd.hpp"
#include "verbs.hpp"

namespace mydocker::driver {
namespace {

/// How often `logs -f` looks for more.
constexpr std::chrono::milliseconds kFollowInterval{100};

/// One entry of the log: its text and stream.
struct Entry {
    std::string text;
    bool stderrStream = false;
};

/// Writes `text` whole to `fd` (a closed stdout ends `logs -f` quietly).
bool writeAll(int fd, const std::string& text) {
    std::size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        done += static_cast<std::size_t>(n);
    }
    return true;
}

/// Reads the log from `fd` onwards: each complete line parsed into `entries`.
void readEntries(int fd, std::string& pending, std::deque<Entry>& entries) {
    char buffer[8192];
    for (;;) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw SysError("read", "container log");
        if (n == 0) break;
        pending.append(buffer, static_cast<std::size_t>(n));
    }
    std::size_t start = 0;
    for (std::size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
        try {
            const auto line = nlohmann::json::parse(pending.substr(start, nl - start));
            entries.push_back(
                {line.at("log").get<std::string>(), line.value("stream", "") == "stderr"});
        } catch (const nlohmann::json::exception&) {
            // A torn line (a monitor killed mid-write): skipped, as docker does.
        }
    }
    pending.erase(0, start);
}

bool print(std::deque<Entry>& entries) {
    for (const Entry& e : entries) {
        if (!writeAll(e.stderrStream ? STDERR_FILENO : STDOUT_FILENO, e.text)) return false;
    }
    entries.clear();
    return true;
}

}  // namespace

Verb addLogsVerb(CLI::App& app, const Globals& globals) {
    CLI::App* logs = app.add_subcommand("logs", "Fetch the logs of a container");
    struct Flags {
        bool follow = false;
        std::string tail = "all";
        std::string ref;
    };
    auto flags = std::make_shared<Flags>();
    logs->add_flag("-f,--follow", flags->follow, "Follow log output");
    logs->add_option("-n,--tail", flags->tail, "Number of lines to show from the end (or all)");
    logs->add_option("container", flags->ref, "Container id, prefix or name")->required();
    return Verb{logs, [flags, &globals] {
                    static const std::regex number("[0-9]{1,9}");
                    if (flags->tail != "all" && !std::regex_match(flags->tail, number)) {
                        throw UsageError(fmt::format(
                            "invalid --tail {} (a number of lines, or all)", quoted(flags->tail)));
                    }
                    const ContainerState state = resolveContainer(globals.root, flags->ref);
                    const std::string path = logPath(globals.root, state.id);
                    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
                    if (!fd && errno != ENOENT) throw SysError("open", path);
                    std::string pending;
                    std::deque<Entry> entries;
                    if (fd) readEntries(fd.get(), pending, entries);
                    if (flags->tail != "all") {
                        const auto keep = static_cast<std::size_t>(std::stoul(flags->tail));
                        while (entries.size() > keep) entries.pop_front();
                    }
                    if (!print(entries)) return 0;
                    if (!flags->follow || !fd) return 0;
                    for (;;) {
                        // Its state before the read: a last line written just before
                        // the exit is read by this turn's read.
                        const bool running = pathExists(statePath(globals.root, state.id)) &&
                                             isRunning(loadState(globals.root, state.id));
                        readEntries(fd.get(), pending, entries);
                        if (!print(entries) || !running) return 0;
                        std::this_thread::sleep_for(kFollowInterval);
                    }
                }};
}

}  // namespace mydocker::driver
