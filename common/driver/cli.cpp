// The command line of labN (CLI11). Docker's conventions: `labNN [global flags] VERB`;
// bad input is exit 125 with one line `labNN: error: <what> (<why>)`.
//
// This file knows the global flags and the list of verbs; each verb declares and checks
// its own flags in its own file (verbs.hpp).
#include "cli.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <optional>
#include <vector>

#include "lab.hpp"
#include "mydocker/error.hpp"
#include "mydocker/log.hpp"
#include "sweep.hpp"
#include "verbs.hpp"

namespace mydocker::driver {

std::string programName() {
    return fmt::format("lab{:02}", lab);
}

namespace {

/// The verbs of labs 1..N, in the order `--help` lists them.
std::vector<Verb> addVerbs(CLI::App& app, const Globals& globals) {
    std::vector<Verb> verbs;
    verbs.push_back(addRunVerb(app, globals));  // lab 01
    if constexpr (lab >= 5) {
        verbs.push_back(addImportVerb(app, globals));
        verbs.push_back(addImagesVerb(app, globals));
        verbs.push_back(addRmiVerb(app, globals));
    }
    if constexpr (lab >= 6) verbs.push_back(addNetworkVerb(app, globals));
    if constexpr (lab >= 8) {
        verbs.push_back(addCommitVerb(app, globals));
        verbs.push_back(addSaveVerb(app, globals));
    }
    if constexpr (lab >= 9) verbs.push_back(addVolumeVerb(app, globals));
    if constexpr (lab >= 10) {
        verbs.push_back(addPsVerb(app, globals));
        verbs.push_back(addLogsVerb(app, globals));
        verbs.push_back(addExecVerb(app, globals));
        verbs.push_back(addStopVerb(app, globals));
        verbs.push_back(addKillVerb(app, globals));
        verbs.push_back(addRmVerb(app, globals));
        verbs.push_back(addInspectVerb(app, globals));
    }
    return verbs;
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

// CLI11's message for a parse error, in the kit's words where CLI11's are obscure
// ("--hostname: 1 required TEXT missing").
std::string describeParseError(const CLI::ParseError& e) {
    const std::string what = e.what();
    if (const auto colon = what.find(": 1 required"); colon != std::string::npos) {
        return fmt::format("{} needs a value", what.substr(0, colon));
    }
    if (what == "command is required") return "no command to run: run [OPTIONS] -- CMD [ARG...]";
    return what;
}

// Prints one error line: "labNN: error: <what>".
void printError(std::string_view message) {
    log::write(log::Level::error, message);
}

/// Parses the command line; on a parse error prints one line and returns the exit code.
std::optional<int> parse(CLI::App& app, int argc, char** argv) {
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::ExtrasError&) {
        printError(fmt::format("unknown flag or argument: {} (see '{} --help')",
                               mydocker::quoted(firstUnexpected(app)), programName()));
        return kRuntimeFailure;
    } catch (const CLI::ParseError& e) {
        const bool verbParsed = !app.get_subcommands().empty();
        if (!verbParsed && !app.remaining().empty()) {
            printError(fmt::format("unknown command or flag: {} (see '{} --help')",
                                   mydocker::quoted(firstUnexpected(app)), programName()));
            return kRuntimeFailure;
        }
        printError(fmt::format("{} (see '{} --help')", describeParseError(e), programName()));
        return kRuntimeFailure;
    }
    return std::nullopt;
}

/// Checks the global flags, shared by every verb.
void checkGlobals(const Globals& globals) {
    log::setLevel(log::parseLevel(globals.logLevel));
    if (globals.root.empty() || globals.root.front() != '/') {
        throw UsageError(fmt::format("invalid --root {} (must be an absolute path)",
                                     mydocker::quoted(globals.root)));
    }
    if (::geteuid() != 0) {
        throw UsageError("must be run as root (namespaces, mounts and cgroups need it)");
    }
}

}  // namespace

int runCli(int argc, char** argv) {
    log::setProgram(programName());
    CLI::App app{
        fmt::format("{}: the mydocker runtime as built up to lab {:02}", programName(), lab),
        programName()};
    app.require_subcommand(1);
    Globals globals;
    app.add_option("--root", globals.root, "Directory of the runtime's state")
        ->capture_default_str();
    app.add_option("--log-level", globals.logLevel, "debug, info, warn or error")
        ->capture_default_str();
    const std::vector<Verb> verbs = addVerbs(app, globals);

    // No command at all: show what there is (as `docker` does).
    if (argc <= 1) {
        std::fputs(app.help().c_str(), stdout);
        return 0;
    }
    if (const auto exitCode = parse(app, argc, argv)) return *exitCode;

    try {
        checkGlobals(globals);
        // Before anything else: what a runtime killed with SIGKILL left behind.
        sweepDeadContainers(globals.root);
        for (const Verb& verb : verbs) {
            if (verb.command->parsed()) return verb.execute();
        }
    } catch (const Error& e) {
        printError(e.what());
        return e.exitCode();
    } catch (const std::exception& e) {
        printError(e.what());
        return kRuntimeFailure;
    }
    return kRuntimeFailure;
}

}  // namespace mydocker::driver
