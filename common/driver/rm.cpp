// Lab 10: `rm [-f] C...`: a container's record, log and name go; `-f` kills it first.
#include <fmt/format.h>
#include <signal.h>

#include <chrono>

#include "containers.hpp"
#include "mydocker/error.hpp"
#include "mydocker/runtime.hpp"
#include "mydocker/state.hpp"
#include "verbs.hpp"

namespace mydocker::driver {

Verb addRmVerb(CLI::App& app, const Globals& globals) {
    CLI::App* rm = app.add_subcommand("rm", "Remove one or more containers");
    struct Flags {
        bool force = false;
        std::vector<std::string> refs;
    };
    auto flags = std::make_shared<Flags>();
    rm->add_flag("-f,--force", flags->force, "Kill a running container first");
    rm->add_option("containers", flags->refs, "Container ids, prefixes or names")->required();
    return Verb{
        rm, [flags, &globals] {
            std::vector<ContainerState> states;
            for (const std::string& ref : flags->refs) {
                const ContainerState state = resolveContainer(globals.root, ref);
                if (isRunning(state) && !flags->force) {
                    throw UsageError(fmt::format(
                        "container {} is running (stop it first, or use rm -f)", quoted(ref)));
                }
                states.push_back(state);
            }
            for (std::size_t i = 0; i < states.size(); ++i) {
                // -f: no grace, as docker rm -f; then the monitor's teardown is
                // waited for, so nothing it would write comes after the removal.
                stopContainer(globals.root, states[i], std::chrono::milliseconds(0));
                removeRecord(globals.root, states[i].id);
                unmarkLive(globals.root, states[i].id);
                fmt::print("{}\n", flags->refs[i]);
            }
            return 0;
        }};
}

}  // namespace mydocker::driver
