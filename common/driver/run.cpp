// The verb `run`: its flags, a block per lab, each declared and checked in one place,
// then the pipeline (pipeline.cpp). Every check happens before anything is created, so
// bad input is one error line and leaves nothing behind.
#include <fmt/format.h>

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "lab.hpp"
#include "mydocker/cgroups.hpp"
#include "mydocker/config.hpp"
#include "mydocker/memory.hpp"
#include "mydocker/namespaces.hpp"
#include "mydocker/rootfs.hpp"
#include "mydocker/state.hpp"
#include "pipeline.hpp"
#include "verbs.hpp"

namespace mydocker::driver {
namespace {

/// Lab 01: the hostname.
struct Lab01Flags {
    std::optional<std::string> hostname;

    void declare(CLI::App& run) {
        run.add_option("--hostname", hostname, "Container hostname (default: its short id)");
    }
    void check(RunConfig& config) const {
        if (hostname) ns::validateHostname(*hostname);
        config.hostname = hostname.value_or(shortId(config.id));
    }
};

/// Lab 02: a root filesystem of its own.
struct Lab02Flags {
    std::optional<std::string> rootfs;

    void declare(CLI::App& run) {
        run.add_option("--rootfs", rootfs, "Absolute path of the container's root directory");
    }
    void check(RunConfig& config) const {
        if (!rootfs) return;
        rootfs::validateRootfs(*rootfs);
        config.rootfs = *rootfs;
    }
};

/// Lab 03: CPU and process limits.
struct Lab03Flags {
    std::optional<std::string> cpus;
    std::optional<std::string> cpuShares;
    std::optional<std::string> cpusetCpus;
    std::optional<std::string> pidsLimit;

    void declare(CLI::App& run) {
        run.add_option("--cpus", cpus, "Number of CPUs (e.g. 0.5)");
        run.add_option("--cpu-shares", cpuShares, "CPU shares (relative weight, 2-262144)");
        run.add_option("--cpuset-cpus", cpusetCpus, "CPUs in which to allow execution (0-3, 0,1)");
        run.add_option("--pids-limit", pidsLimit, "Tune container pids limit");
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
    std::optional<std::string> memory;

    void declare(CLI::App& run) {
        run.add_option("-m,--memory", memory, "Memory limit (b, k, m, g; at least 6m)");
    }
    void check(RunConfig& config) const {
        if (memory) config.limits.memoryBytes = memory::parseMemorySize(*memory);
    }
};

/// Every flag of `run`, by the lab that brings it.
struct RunFlags {
    Lab01Flags lab01;
    Lab02Flags lab02;
    Lab03Flags lab03;
    Lab04Flags lab04;
    std::vector<std::string> command;

    void declare(CLI::App& run) {
        lab01.declare(run);
        if constexpr (lab >= 2) lab02.declare(run);
        if constexpr (lab >= 3) lab03.declare(run);
        if constexpr (lab >= 4) lab04.declare(run);
        run.add_option("command", command, "CMD [ARG...], after --")->required();
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
                    return runContainer(config);
                }};
}

}  // namespace mydocker::driver
