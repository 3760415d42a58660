#include "mydocker/error.hpp"

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace mydocker {

Error& Error::addContext(std::string context) {
    context_.push_back(std::move(context));
    rebuild();
    return *this;
}

void Error::rebuild() {
    line_.clear();
    // Outermost context first: the last one added was added furthest up the stack.
    for (auto it = context_.rbegin(); it != context_.rend(); ++it) {
        line_ += *it;
        line_ += ": ";
    }
    line_ += message_;
}

namespace {

std::string describeSysError(int err, std::string_view call, std::string_view arg) {
    const std::string where =
        arg.empty() ? std::string(call) : fmt::format("{}({})", call, arg);
    return fmt::format("{}: {} ({})", where, std::strerror(err), errnoName(err));
}

}  // namespace

SysError::SysError(std::string_view call, std::string_view arg) : SysError(errno, call, arg) {}

SysError::SysError(int err, std::string_view call, std::string_view arg)
    : Error(describeSysError(err, call, arg)), errno_(err) {}

std::string errnoName(int err) {
    // strerrorname_np(3) exists from glibc 2.32 (Debian 12 has 2.36).
    if (const char* name = strerrorname_np(err)) return name;
    return fmt::format("errno {}", err);
}

}  // namespace mydocker
