// Lab 10: `kill [-s SIG] C`: a signal to the container's PID 1, through a pidfd.
#include <fmt/format.h>
#include <signal.h>
#include <string.h>
// glibc 2.36 (Debian 12) declares these without extern "C" (fixed in 2.37).
extern "C" {
#include <sys/pidfd.h>
}

#include <cctype>
#include <regex>

#include "containers.hpp"
#include "mydocker/error.hpp"
#include "verbs.hpp"

namespace mydocker::driver {
namespace {

/// A signal by name ("KILL", "SIGKILL", "kill") or number ("9").
int parseSignal(const std::string& text) {
    static const std::regex number("[0-9]{1,2}");
    if (std::regex_match(text, number)) {
        const int n = std::stoi(text);
        if (n >= 1 && n < NSIG) return n;
    } else {
        std::string name;
        for (const char c : text)
            name += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        if (name.rfind("SIG", 0) == 0) name = name.substr(3);
        for (int n = 1; n < NSIG; ++n) {
            const char* abbrev = ::sigabbrev_np(n);
            if (abbrev != nullptr && name == abbrev) return n;
        }
    }
    throw UsageError(
        fmt::format("invalid signal {} (a name such as TERM or KILL, or a number)", quoted(text)));
}

}  // namespace

Verb addKillVerb(CLI::App& app, const Globals& globals) {
    CLI::App* kill = app.add_subcommand("kill", "Send a signal to a running container's PID 1");
    struct Flags {
        std::string signal = "KILL";
        std::string ref;
    };
    auto flags = std::make_shared<Flags>();
    kill->add_option("-s,--signal", flags->signal, "Signal to send (default KILL)");
    kill->add_option("container", flags->ref, "Container id, prefix or name")->required();
    return Verb{
        kill, [flags, &globals] {
            const int signal = parseSignal(flags->signal);
            const ContainerState state = resolveContainer(globals.root, flags->ref);
            auto pidfd = openPidfd(state.pid, state.pidStartTime);
            if (!pidfd || state.status != "running") {
                throw UsageError(fmt::format(
                    "container {} is not running (it {})", quoted(flags->ref),
                    state.status == "exited" ? fmt::format("exited with code {}", state.exitCode)
                                             : std::string("has no process")));
            }
            if (::pidfd_send_signal(pidfd->get(), signal, nullptr, 0) != 0) {
                throw SysError("pidfd_send_signal", flags->signal);
            }
            fmt::print("{}\n", flags->ref);
            return 0;
        }};
}

}  // namespace mydocker::driver
