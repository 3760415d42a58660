// Lab 01: replace the child with CMD, reporting why if it cannot be run.
#include <linux/close_range.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "mydocker/error.hpp"
#include "mydocker/namespaces.hpp"

namespace mydocker::ns {

void execCommand(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
    // Hints:
    // - Every descriptor the runtime opens is close-on-exec, but the runtime's own caller
    //   may have left some open without it (`exec 3</` in a shell): CMD would inherit
    //   them, and an fd on the host's "/" is a way out of any root (runc's CVE-2024-21626).
    //   Mark all but stdin, stdout and stderr close-on-exec (close_range(2)): exec closes them.
    // - execvpe(3) searches the PATH of the *calling* process: set ours to the container's.
    // - execvpe(3) returns only when it failed, errno saying why: not found (ENOENT,
    //   ENOTDIR) is docker run's 127, anything else (EACCES, ENOEXEC...) is 126.
    todo("TODO (lab 01): execvpe(3) the command, 127 if not found, 126 if not executable", argv, env);
}

}  // namespace mydocker::ns
