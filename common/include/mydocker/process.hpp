/// @file
/// @brief Starting and waiting for processes: spawn with pipes and a timeout.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mydocker {

/// What a finished process left: its wait status and what it printed.
struct ProcessResult {
    int status = 0;          ///< the raw wait(2) status
    bool timedOut = false;   ///< killed because it ran past the timeout
    std::string out;         ///< everything it wrote to stdout
    std::string err;         ///< everything it wrote to stderr

    /// The exit code as a shell shows it: the code, or 128+N when killed by signal N.
    int exitCode() const;
};

/// Options for runProcess.
struct SpawnOptions {
    std::chrono::milliseconds timeout{std::chrono::seconds(30)};  ///< SIGKILL after this
    std::optional<std::string> input;   ///< written to stdin, then closed (else /dev/null)
    std::vector<std::string> env;       ///< extra KEY=VALUE entries added to the environment
};

/// Runs argv[0] (looked up in PATH) with stdout and stderr captured, waits for it,
/// and kills it (and its process group) if it runs past the timeout.
ProcessResult runProcess(const std::vector<std::string>& argv, const SpawnOptions& options = {});

/// waitpid(2) that retries on EINTR. Returns the status. Throws SysError.
int waitForPid(pid_t pid);

/// When process `pid` started, in clock ticks after boot: field 22 of `/proc/PID/stat`.
/// With the pid it names one process for good: a pid reused later has another start time.
/// @throws SysError if the file cannot be read; Error if it cannot be parsed
std::uint64_t processStartTime(pid_t pid);

/// The docker-style exit code of a wait status: the code, or 128+N for signal N.
int exitCodeOfStatus(int status);

}  // namespace mydocker
