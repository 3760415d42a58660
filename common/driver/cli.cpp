// The command line of labN (CLI11). Docker's conventions: `labNN [global flags] COMMAND`,
// bad input is exit 125 with one line `labNN: error: <what> (<why>)`.
//
// Each flag's value is checked by the lab that teaches it (validateHostname is lab 01's,
// parseCpus lab 03's, ...), before anything is created, so bad input leaves nothing.
#include "cli.hpp"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>
#include <optional>

#include "container.hpp"
#include "mydocker/config.hpp"
#include "mydocker/error.hpp"
#include "mydocker/log.hpp"
#include "mydocker/namespaces.hpp"
#include "mydocker/state.hpp"
#if MYDOCKER_LAB >= 2
#include "mydocker/rootfs.hpp"
#endif
#if MYDOCKER_LAB >= 3
#include "mydocker/cgroups.hpp"
#endif
#if MYDOCKER_LAB >= 4
#include "mydocker/memory.hpp"
#endif

#ifndef MYDOCKER_LAB
#error "the driver is compiled once per lab, with MYDOCKER_LAB set to its number"
#endif

namespace mydocker::driver {
namespace {

/// Where state lives unless --root says otherwise.
constexpr const char* kDefaultRoot = "/var/lib/mydocker";

/// Exit code when the runtime itself fails or the input is invalid (docker run's).
constexpr int kRuntimeFailure = 125;

std::string programName() { return fmt::format("lab{:02}", MYDOCKER_LAB); }

// The raw strings of `run`'s flags, before the labs check them.
struct RunFlags {
    std::optional<std::string> hostname;
    std::optional<std::string> rootfs;
    std::optional<std::string> cpus;
    std::optional<std::string> cpuShares;
    std::optional<std::string> cpusetCpus;
    std::optional<std::string> pidsLimit;
    std::optional<std::string> memory;
    std::vector<std::string> command;
};

void addRunFlags(CLI::App& run, RunFlags& flags) {
    run.add_option("--hostname", flags.hostname, "Container hostname (default: its short id)");
#if MYDOCKER_LAB >= 2
    run.add_option("--rootfs", flags.rootfs, "Absolute path of the container's root directory");
#endif
#if MYDOCKER_LAB >= 3
    run.add_option("--cpus", flags.cpus, "Number of CPUs (e.g. 0.5)");
    run.add_option("--cpu-shares", flags.cpuShares, "CPU shares (relative weight, 2-262144)");
    run.add_option("--cpuset-cpus", flags.cpusetCpus, "CPUs in which to allow execution (0-3, 0,1)");
    run.add_option("--pids-limit", flags.pidsLimit, "Tune container pids limit");
#endif
#if MYDOCKER_LAB >= 4
    run.add_option("-m,--memory", flags.memory, "Memory limit (b, k, m, g; at least 6m)");
#endif
    run.add_option("command", flags.command, "CMD [ARG...], after --")->required();
    // Everything after the first positional is CMD's, even if it looks like a flag.
    run.positionals_at_end();
}

// Turns the flags into a RunConfig; every check happens here, before anything exists.
RunConfig buildRunConfig(const std::string& root, const RunFlags& flags) {
    RunConfig config;
    config.root = root;
    config.id = newContainerId();
    config.command = flags.command;
    config.hostname = flags.hostname.value_or(shortId(config.id));
    if (flags.hostname) ns::validateHostname(*flags.hostname);
#if MYDOCKER_LAB >= 2
    if (flags.rootfs) {
        rootfs::validateRootfs(*flags.rootfs);
        config.rootfs = *flags.rootfs;
    }
#endif
#if MYDOCKER_LAB >= 3
    if (flags.cpus) config.limits.cpus = cgroups::parseCpus(*flags.cpus);
    if (flags.cpuShares) config.limits.cpuShares = cgroups::parseCpuShares(*flags.cpuShares);
    if (flags.cpusetCpus) config.limits.cpusetCpus = cgroups::parseCpusetCpus(*flags.cpusetCpus);
    if (flags.pidsLimit) config.limits.pidsLimit = cgroups::parsePidsLimit(*flags.pidsLimit);
#endif
#if MYDOCKER_LAB >= 4
    if (flags.memory) config.limits.memoryBytes = memory::parseMemorySize(*flags.memory);
#endif
    return config;
}

// The first argument CLI11 could not place (a mistyped flag, usually), for the error line.
std::string firstUnexpected(const CLI::App& app) {
    std::vector<std::string> extras = app.remaining();
    for (const CLI::App* sub : app.get_subcommands()) {
        const auto more = sub->remaining();
        extras.insert(extras.end(), more.begin(), more.end());
    }
    for (const auto& arg : extras) {
        if (arg != "--") return arg;
    }
    return extras.empty() ? std::string("?") : extras.front();
}

// Prints one error line: "labNN: error: <what>".
void printError(std::string_view message) {
    log::write(log::Level::error, message);
}

}  // namespace

int runCli(int argc, char** argv) {
    log::setProgram(programName());
    CLI::App app{fmt::format("{}: the mydocker runtime as built up to lab {:02}", programName(),
                             MYDOCKER_LAB),
                 programName()};
    app.require_subcommand(1);
    std::string root = kDefaultRoot;
    std::string logLevel = "warn";
    app.add_option("--root", root, "Directory of the runtime's state")->capture_default_str();
    app.add_option("--log-level", logLevel, "debug, info, warn or error")->capture_default_str();

    RunFlags runFlags;
    CLI::App* run = app.add_subcommand("run", "Run a command in a new container");
    addRunFlags(*run, runFlags);

    // No command at all: show what there is (as `docker` does).
    if (argc <= 1) {
        std::fputs(app.help().c_str(), stdout);
        return 0;
    }
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::ExtrasError&) {
        printError(fmt::format("unknown flag or argument: {} (see '{} --help')",
                               firstUnexpected(app), programName()));
        return kRuntimeFailure;
    } catch (const CLI::ParseError& e) {
        if (!run->parsed() && !app.remaining().empty()) {
            printError(fmt::format("unknown command or flag: {} (see '{} --help')",
                                   firstUnexpected(app), programName()));
            return kRuntimeFailure;
        }
        printError(fmt::format("{} (see '{} --help')", e.what(), programName()));
        return kRuntimeFailure;
    }

    try {
        log::setLevel(log::parseLevel(logLevel));
        if (root.empty() || root.front() != '/') {
            throw UsageError(fmt::format("invalid --root \"{}\" (must be an absolute path)", root));
        }
        if (::geteuid() != 0) {
            throw UsageError("must be run as root (namespaces, mounts and cgroups need it)");
        }
        if (run->parsed()) {
            const RunConfig config = buildRunConfig(root, runFlags);
            std::fflush(stdout);
            return runContainer(config);
        }
    } catch (const Error& e) {
        printError(e.what());
        return kRuntimeFailure;
    } catch (const std::exception& e) {
        printError(e.what());
        return kRuntimeFailure;
    }
    return kRuntimeFailure;
}

}  // namespace mydocker::driver
