// Lab 01: replace the child with CMD, reporting why if it cannot be run.
#include <linux/close_range.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "mydocker/error.hpp"
#include "mydocker/namespaces.hpp"

namespace mydocker::ns {

// BEGIN SOLUTION
namespace {

/// docker run's exit codes when CMD cannot run: 127 not found, 126 not executable.
constexpr int kCommandNotFound = 127;
constexpr int kCommandNotExecutable = 126;

std::vector<char*> toArgv(const std::vector<std::string>& strings) {
    std::vector<char*> array;
    for (const auto& s : strings) array.push_back(const_cast<char*>(s.c_str()));
    array.push_back(nullptr);
    return array;
}

/// The value of PATH in `env`, as execvpe(3) would need it.
std::string pathOf(const std::vector<std::string>& env) {
    for (const auto& entry : env) {
        if (entry.rfind("PATH=", 0) == 0) return entry.substr(5);
    }
    return "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
}

}  // namespace
// END SOLUTION

void execCommand(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
    // BEGIN SOLUTION: todo("TODO (lab 01): execvpe(3) the command, 127 if not found, 126 if not executable", argv, env);
    // Every descriptor the runtime opens is close-on-exec, but the runtime's own caller
    // may have left some open without it (`exec 3</` in a shell): CMD would inherit
    // them, and an fd on the host's "/" is a way out of any root (runc's CVE-2024-21626).
    // Mark all but stdin, stdout and stderr close-on-exec (close_range(2)): exec closes them.
    if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0) throw SysError("close_range", "3..");
    auto args = toArgv(argv);
    auto envp = toArgv(env);
    // execvpe(3) searches the PATH of the *calling* process: set ours to the container's.
    const std::string path = pathOf(env);
    ::setenv("PATH", path.c_str(), 1);
    ::execvpe(args[0], args.data(), envp.data());

    // execvpe(3) returns only when it failed, errno saying why: not found (ENOENT,
    // ENOTDIR) is docker run's 127, anything else (EACCES, ENOEXEC...) is 126.
    const int err = errno;
    const int code = (err == ENOENT || err == ENOTDIR) ? kCommandNotFound : kCommandNotExecutable;
    const std::string why = code == kCommandNotFound ? "executable file not found" : std::strerror(err);
    throw ExecError(code, fmt::format("exec \"{}\": {} ({})", argv[0], why, errnoName(err)));
    // END SOLUTION
}

}  // namespace mydocker::ns
