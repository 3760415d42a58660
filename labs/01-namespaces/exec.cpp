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
    todo("TODO (lab 01): execvpe(3) the command, 127 if not found, 126 if not executable", argv, env);
}

}  // namespace mydocker::ns
