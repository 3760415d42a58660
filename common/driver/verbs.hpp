// The verbs of the command line, a file each (crun's layout): run.cpp, from lab 05
// import.cpp, images.cpp and rmi.cpp, later networks, volumes, ps... Each declares its
// own flags on its CLI11 subcommand and returns what to do once the line is parsed.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

namespace mydocker::driver {

/// What every verb may use: the global flags, parsed.
struct Globals {
    std::string root = "/var/lib/mydocker";  ///< --root: where the runtime keeps its state
    std::string logLevel = "warn";           ///< --log-level
};

/// A verb: its subcommand, and what to do when it is the one on the command line.
struct Verb {
    CLI::App* command = nullptr;   ///< the subcommand, owned by the app
    std::function<int()> execute;  ///< runs it; returns the exit code; may throw Error
};

/// `run [OPTIONS] -- CMD [ARG...]`; from lab 05 `run [OPTIONS] IMAGE [CMD [ARG...]]` (run.cpp).
Verb addRunVerb(CLI::App& app, const Globals& globals);

/// `import ARCHIVE NAME` (import.cpp, lab 05).
Verb addImportVerb(CLI::App& app, const Globals& globals);

/// `images` (images.cpp, lab 05).
Verb addImagesVerb(CLI::App& app, const Globals& globals);

/// `rmi NAME` (rmi.cpp, lab 05).
Verb addRmiVerb(CLI::App& app, const Globals& globals);

/// `network create|ls|rm` (network.cpp, lab 06).
Verb addNetworkVerb(CLI::App& app, const Globals& globals);

/// `commit CONTAINER IMAGE` (commit.cpp, lab 08).
Verb addCommitVerb(CLI::App& app, const Globals& globals);

/// `save IMAGE -o FILE [--format oci-archive|docker-archive]` (save.cpp, lab 08).
Verb addSaveVerb(CLI::App& app, const Globals& globals);
/// `volume ls|rm` (volume.cpp, lab 09).
Verb addVolumeVerb(CLI::App& app, const Globals& globals);
/// `ps [-a] [-q]` (ps.cpp, lab 10).
Verb addPsVerb(CLI::App& app, const Globals& globals);

/// `logs [-f] [--tail N] C` (logs.cpp, lab 10).
Verb addLogsVerb(CLI::App& app, const Globals& globals);

/// `exec [-i] [-e K=V] C CMD...` (exec.cpp, lab 10).
Verb addExecVerb(CLI::App& app, const Globals& globals);

/// `stop [-t S] C...` (stop.cpp, lab 10).
Verb addStopVerb(CLI::App& app, const Globals& globals);

/// `kill [-s SIG] C` (kill.cpp, lab 10).
Verb addKillVerb(CLI::App& app, const Globals& globals);

/// `rm [-f] C...` (rm.cpp, lab 10).
Verb addRmVerb(CLI::App& app, const Globals& globals);

/// `inspect C` (inspect.cpp, lab 10).
Verb addInspectVerb(CLI::App& app, const Globals& globals);

}  // namespace mydocker::driver
