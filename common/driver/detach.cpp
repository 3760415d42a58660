// Lab 10: `run -d`. The command line tool starts the monitor (runtime::startMonitor), which
// runs the whole start pipeline, so that it is the parent of the container's PID 1 and the
// holder of its teardown; the tool waits only for the monitor's report:
//
//   lab10 run -d ...                 monitor (own session)            container
//   ----------------                 ---------------------            ---------
//   fork, setsid, fork  ---------->  fds 0-2 -> /dev/null
//                                    stdout/stderr pipes as fds 1, 2
//                                    the start pipeline  ---------->  PID 1 (fds 1, 2: pipes)
//   read the report   <-- "0" ----   log to <id>-json.log   <-------  writes
//   print the id, exit 0             wait, record the exit, teardown
#include "detach.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "lab.hpp"
#include "mydocker/error.hpp"
#include "mydocker/runtime.hpp"
#include "mydocker/unique_fd.hpp"
#include "pipeline.hpp"

namespace mydocker::driver {
namespace {

/// Sends an error to the command line tool as "<exit code> <message>".
void report(const UniqueFd& fd, int exitCode, const std::string& message) {
    const std::string text = fmt::format("{} {}", exitCode, message);
    [[maybe_unused]] const ssize_t n = ::write(fd.get(), text.data(), text.size());
}

/// The monitor's life: the container's output pipes, then the pipeline.
int monitorMain(const RunConfig& config, UniqueFd reportFd) {
    try {
        Pipe out = makePipe();
        Pipe err = makePipe();
        // The write ends as fds 1 and 2 (dup2 clears O_CLOEXEC): the container's child
        // inherits them as its stdout and stderr. The monitor points them back at
        // /dev/null once CMD runs (pipeline.cpp, startLogging).
        if (::dup2(out.write.get(), STDOUT_FILENO) < 0 ||
            ::dup2(err.write.get(), STDERR_FILENO) < 0) {
            throw SysError("dup2", "the container's output pipes");
        }
        out.write.reset();
        err.write.reset();
        DetachedIo io{std::move(out.read), std::move(err.read), std::move(reportFd)};
        try {
            return runContainer(config, &io);
        } catch (const Error& e) {
            if (io.report) report(io.report, e.exitCode(), e.what());
            return e.exitCode();
        }
    } catch (const Error& e) {
        if (reportFd) report(reportFd, e.exitCode(), e.what());
        return e.exitCode();
    } catch (const std::exception& e) {
        if (reportFd) report(reportFd, kRuntimeFailure, e.what());
        return kRuntimeFailure;
    }
}

/// Everything the monitor wrote before it closed the report pipe.
std::string readReport(const UniqueFd& fd) {
    std::string text;
    char buffer[1024];
    for (;;) {
        const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw SysError("read", "the monitor's report");
        if (n == 0) return text;
        text.append(buffer, static_cast<std::size_t>(n));
    }
}

}  // namespace

int runDetached(const RunConfig& config) {
    // Nothing buffered may be written twice by the monitor's copy of stdio.
    std::fflush(stdout);
    std::fflush(stderr);
    const UniqueFd reportFd = runtime::startMonitor(
        [&config](UniqueFd fd) { return monitorMain(config, std::move(fd)); });
    const std::string text = readReport(reportFd);
    if (text == "0") {
        fmt::print("{}\n", config.id);
        std::fflush(stdout);
        return 0;
    }
    if (text.empty()) throw Error("the container's monitor ended before the container started");
    const auto space = text.find(' ');
    const int code = std::atoi(text.substr(0, space).c_str());
    throw ExecError(code, space == std::string::npos ? text : text.substr(space + 1));
}

}  // namespace mydocker::driver
