// The verb `run`: its flags, a block per lab, each declared and checked in one place,
// then the pipeline (pipeline.cpp). Every check happens before anything is created, so
// bad input is one error line and leaves nothing behind.
#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "containers.hpp"
#include "detach.hpp"
#include "lab.hpp"
#include "mydocker/cgroups.hpp"
#include "mydocker/config.hpp"
#include "mydocker/error.hpp"
#include "mydocker/image.hpp"
#include "mydocker/memory.hpp"
#include "mydocker/namespaces.hpp"
#include "mydocker/rootfs.hpp"
#include "mydocker/state.hpp"
#include "network.hpp"
#include "pipeline.hpp"
#include "ports.hpp"
#include "verbs.hpp"
#include "volume.hpp"

namespace mydocker::driver {
namespace {

/// One flag's value as typed, and whether it was given at all: `--cpus ""` is given, and
/// wrong (CLI11 would turn an empty value into "not given" for a std::optional).
class Flag {
  public:
    /// Declares `--name` on `command`.
    void declare(CLI::App& command, const std::string& names, const std::string& help) {
        option_ = command.add_option(names, value_, help);
    }
    /// True when the flag was on the command line (with any value, even "").
    explicit operator bool() const { return option_ != nullptr && option_->count() > 0; }
    /// The value as typed.
    const std::string& operator*() const { return value_; }

  private:
    std::string value_;
    CLI::Option* option_ = nullptr;
};

/// Lab 01: the hostname.
struct Lab01Flags {
    Flag hostname;

    void declare(CLI::App& run) {
        hostname.declare(run, "--hostname", "Container hostname (default: its short id)");
    }
    void check(RunConfig& config) const {
        if (hostname) ns::validateHostname(*hostname);
        config.hostname = hostname ? *hostname : shortId(config.id);
    }
};

/// Lab 02: a root filesystem of its own.
struct Lab02Flags {
    Flag rootfs;

    void declare(CLI::App& run) {
        rootfs.declare(run, "--rootfs", "Absolute path of the container's root directory");
    }
    void check(RunConfig& config) const {
        if (!rootfs) return;
        rootfs::validateRootfs(*rootfs);
        config.rootfs = *rootfs;
    }
};

/// Lab 03: CPU and process limits.
struct Lab03Flags {
    Flag cpus;
    Flag cpuShares;
    Flag cpusetCpus;
    Flag pidsLimit;

    void declare(CLI::App& run) {
        cpus.declare(run, "--cpus", "Number of CPUs (e.g. 0.5)");
        cpuShares.declare(run, "--cpu-shares", "CPU shares (relative weight, 2-262144)");
        cpusetCpus.declare(run, "--cpuset-cpus", "CPUs in which to allow execution (0-3, 0,1)");
        pidsLimit.declare(run, "--pids-limit", "Tune container pids limit");
    }
    void check(RunConfig& config) const {
        if (cpus) config.limits.cpus = cgroups::parseCpus(*cpus);
        if (cpuShares) config.limits.cpuShares = cgroups::parseCpuShares(*cpuShares);
        if (cpusetCpus) config.limits.cpusetCpus = cgroups::parseCpusetCpus(*cpusetCpus);
        if (pidsLimit) config.limits.pidsLimit = cgroups::parsePidsLimit(*pidsLimit);
        // Docker's default on a cgroup v2 host: the container sees its own cgroup as "/".
        config.cgroupNamespace = cgroups::hostMode() == cgroups::Mode::unified;
    }
};

/// Lab 04: the memory limit.
struct Lab04Flags {
    Flag memory;

    void declare(CLI::App& run) {
        memory.declare(run, "-m,--memory", "Memory limit (b, k, m, g; at least 6m)");
    }
    void check(RunConfig& config) const {
        if (memory) config.limits.memoryBytes = memory::parseMemorySize(*memory);
    }
};

/// Lab 05: `run [OPTIONS] IMAGE [CMD [ARG...]]`. The image's config fills in what the
/// command line leaves out, as `docker run` does: CMD defaults to the image's Cmd, its
/// Entrypoint comes first, its Env and WorkingDir apply. With --rootfs there is no image:
/// every word is CMD's, as in labs 02-04.
struct Lab05Image {
    void check(RunConfig& config, const std::vector<std::string>& words) const {
        if (!config.rootfs.empty()) {
            if (words.empty()) {
                throw UsageError("no command to run (run --rootfs DIR [OPTIONS] -- CMD [ARG...])");
            }
            config.command = words;
            return;
        }
        if (words.empty()) throw UsageError("no image to run (run [OPTIONS] IMAGE [CMD [ARG...]])");
        const image::Reference reference = image::parseReference(words.front());
        // Here, before anything is made: an unknown image is bad input that leaves nothing.
        const image::Image image = image::loadImage(config.root, reference);
        config.image = reference.str();
        std::vector<std::string> command(words.begin() + 1, words.end());
        if (command.empty()) command = image.config.cmd;
        config.command = image.config.entrypoint;
        config.command.insert(config.command.end(), command.begin(), command.end());
        if (config.command.empty()) {
            throw UsageError(
                fmt::format("no command to run (image {} has no Cmd nor "
                            "Entrypoint: give one after its name)",
                            quoted(reference.str())));
        }
        config.env = image.config.env;
        config.workingDir = image.config.workingDir;
    }
};

/// Lab 06: the container's network.
struct Lab06Flags {
    Flag net;

    void declare(CLI::App& run) {
        net.declare(run, "--net,--network", "bridge (default), none, host or a network's name");
    }
    void check(RunConfig& config) const {
        config.net = net ? *net : "bridge";
        checkNetFlag(config.root, config.net);
    }
};

/// Lab 07: published ports.
struct Lab07Flags {
    std::vector<std::string> publish;

    void declare(CLI::App& run) {
        // One value per -p, as many -p as wanted (a value never swallows IMAGE).
        run.add_option("-p,--publish", publish,
                       "Publish a container's port: [HOSTIP:]HOSTPORT:CTRPORT[/tcp|/udp]")
            ->allow_extra_args(false)
            ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    }
    void check(RunConfig& config) const {
        config.ports = checkPublishFlags(publish, netModeOf(config.net));
    }
};

/// Lab 09: volumes.
struct Lab09Flags {
    std::vector<std::string> volumes;

    void declare(CLI::App& run) {
        // One value per -v, as many -v as wanted (a value never swallows IMAGE).
        run.add_option("-v,--volume", volumes,
                       "Bind mount a volume: HOSTDIR|NAME:CTRDIR[:ro|:rw] (repeatable)")
            ->allow_extra_args(false)
            ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    }
    void check(RunConfig& config) const { config.volumes = checkVolumeFlags(volumes, config); }
};

/// Lab 10: detached containers, names, the environment, --rm.
struct Lab10Flags {
    bool detach = false;
    Flag name;
    std::vector<std::string> env;
    bool autoRemove = false;
    bool tty = false;
    bool interactive = false;

    void declare(CLI::App& run) {
        run.add_flag("-d,--detach", detach, "Run in the background and print the container's id");
        name.declare(run, "--name", "A name for the container ([a-zA-Z0-9][a-zA-Z0-9_.-]+)");
        // One value per -e, however many: the next word is the image, or another flag.
        run.add_option("-e,--env", env,
                       "Set an environment variable: K=V, or K to pass the caller's (repeatable)")
            ->allow_extra_args(false)
            ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
        run.add_flag("--rm", autoRemove, "Remove the container when it exits");
        run.add_flag("-t,--tty", tty, "Give CMD a pseudo-terminal (fds 0, 1 and 2)");
        run.add_flag("-i,--interactive", interactive,
                     "Keep stdin open (in the foreground it always is; with -t, typed keys go "
                     "to the terminal)");
    }
    void check(RunConfig& config) const {
        config.detach = detach;
        config.autoRemove = autoRemove;
        config.tty = tty;
        config.interactive = interactive && !detach;  // nothing attaches to a detached one
        if (name) {
            validateName(*name);
            config.name = *name;
        }
        // After the image's Env: -e wins (containerEnvironment() keeps the last of a name).
        for (const std::string& variable : env) {
            if (variable.empty() || variable.front() == '=') {
                throw UsageError(fmt::format("invalid -e {} (K=V, or K alone)", quoted(variable)));
            }
            if (variable.find('=') != std::string::npos) {
                config.env.push_back(variable);
            } else if (const char* value = std::getenv(variable.c_str())) {
                // `-e K`: the caller's value, as docker does; nothing if the caller has none.
                config.env.push_back(variable + "=" + value);
            }
        }
    }
};

/// Every flag of `run`, by the lab that brings it.
struct RunFlags {
    Lab01Flags lab01;
    Lab02Flags lab02;
    Lab03Flags lab03;
    Lab04Flags lab04;
    Lab05Image lab05;
    Lab06Flags lab06;
    Lab07Flags lab07;
    Lab09Flags lab09;
    Lab10Flags lab10;
    std::vector<std::string> command;

    void declare(CLI::App& run) {
        lab01.declare(run);
        if constexpr (lab >= 2) lab02.declare(run);
        if constexpr (lab >= 3) lab03.declare(run);
        if constexpr (lab >= 4) lab04.declare(run);
        if constexpr (lab >= 6) lab06.declare(run);
        if constexpr (lab >= 7) lab07.declare(run);
        if constexpr (lab >= 9) lab09.declare(run);
        if constexpr (lab >= 10) lab10.declare(run);
        if constexpr (lab >= 5) {
            // Required or not depends on --rootfs: Lab05Image checks it.
            run.add_option("command", command,
                           "IMAGE [CMD [ARG...]], or CMD [ARG...] with --rootfs");
        } else {
            run.add_option("command", command, "CMD [ARG...], after --")->required();
        }
        // Everything after the first positional is CMD's, even if it looks like a flag.
        run.positionals_at_end();
    }

    RunConfig check(const Globals& globals) const {
        RunConfig config;
        config.root = globals.root;
        config.id = newContainerId();
        config.command = command;
        lab01.check(config);
        if constexpr (lab >= 2) lab02.check(config);
        if constexpr (lab >= 3) lab03.check(config);
        if constexpr (lab >= 4) lab04.check(config);
        if constexpr (lab >= 5) lab05.check(config, command);
        if constexpr (lab >= 6) lab06.check(config);
        if constexpr (lab >= 7) lab07.check(config);
        if constexpr (lab >= 9) lab09.check(config);
        if constexpr (lab >= 10) lab10.check(config);
        return config;
    }
};

}  // namespace

Verb addRunVerb(CLI::App& app, const Globals& globals) {
    CLI::App* run = app.add_subcommand("run", "Run a command in a new container");
    auto flags = std::make_shared<RunFlags>();
    flags->declare(*run);
    return Verb{run, [flags, &globals] {
                    const RunConfig config = flags->check(globals);
                    // Nothing buffered may be written twice by the child's copy of stdio.
                    std::fflush(stdout);
                    if constexpr (lab >= 10) {
                        if (config.detach) return runDetached(config);
                    }
                    return runContainer(config);
                }};
}

}  // namespace mydocker::driver
