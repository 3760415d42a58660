// Lab 10: `stop [-t S] C...`: SIGTERM, SIGKILL after S seconds (runtime::stopProcess), then
// wait for the monitor to record the exit and tear the container down.
#include <fmt/format.h>

#include <chrono>

#include "containers.hpp"
#include "mydocker/error.hpp"
#include "mydocker/runtime.hpp"
#include "verbs.hpp"

namespace mydocker::driver {
namespace {

/// docker stop's default grace period.
constexpr int kDefaultStopSeconds = 10;
/// How long the monitor may take to tear down once PID 1 is gone.
constexpr std::chrono::seconds kTeardownTimeout{30};

}  // namespace

void stopContainer(const std::string& root, const ContainerState& state,
                   std::chrono::milliseconds grace) {
    if (auto pidfd = openPidfd(state.pid, state.pidStartTime); pidfd && state.status == "running") {
        runtime::stopProcess(*pidfd, grace);
    }
    // PID 1 gone: its monitor reaps it, records 128+N and runs the teardown.
    waitForMonitor(root, state, kTeardownTimeout);
}

Verb addStopVerb(CLI::App& app, const Globals& globals) {
    CLI::App* stop = app.add_subcommand("stop", "Stop one or more running containers");
    struct Flags {
        std::string seconds = std::to_string(kDefaultStopSeconds);
        std::vector<std::string> refs;
    };
    auto flags = std::make_shared<Flags>();
    stop->add_option("-t,--time", flags->seconds, "Seconds to wait before killing it");
    stop->add_option("containers", flags->refs, "Container ids, prefixes or names")->required();
    return Verb{stop, [flags, &globals] {
                    const int seconds = parseSeconds(flags->seconds, "-t");
                    // Every name is checked before anything is stopped.
                    std::vector<ContainerState> states;
                    for (const std::string& ref : flags->refs) {
                        states.push_back(resolveContainer(globals.root, ref));
                    }
                    for (std::size_t i = 0; i < states.size(); ++i) {
                        stopContainer(globals.root, states[i], std::chrono::seconds(seconds));
                        fmt::print("{}\n", flags->refs[i]);
                    }
                    return 0;
                }};
}

}  // namespace mydocker::driver
