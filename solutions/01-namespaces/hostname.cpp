// Lab 01: the container's hostname, in its own UTS namespace.
#include <unistd.h>

#include <fmt/format.h>

#include "mydocker/error.hpp"
#include "mydocker/namespaces.hpp"

namespace mydocker::ns {

// BEGIN SOLUTION
namespace {

bool isLabelCharacter(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.';
}

}  // namespace
// END SOLUTION

void validateHostname(std::string_view name) {
    // BEGIN SOLUTION: todo("TODO (lab 01): check the hostname (length, characters)", name);
    if (name.empty() || name.size() > kMaxHostnameLength) {
        throw UsageError(fmt::format("invalid hostname {} (must be 1 to {} characters, is {})",
                                     quoted(name), kMaxHostnameLength, name.size()));
    }
    for (const char c : name) {
        if (!isLabelCharacter(c)) {
            throw UsageError(
                fmt::format("invalid hostname {} (only letters, digits, '-' and '.' are allowed)",
                            quoted(name)));
        }
    }
    // RFC 1123: a label neither starts nor ends with a hyphen.
    const char first = name.front();
    const char last = name.back();
    if (first == '-' || first == '.' || last == '-' || last == '.') {
        throw UsageError(fmt::format(
            "invalid hostname {} (must not start or end with '-' or '.')", quoted(name)));
    }
    // END SOLUTION
}

void setHostname(std::string_view name) {
    // BEGIN SOLUTION: todo("TODO (lab 01): set the hostname with sethostname(2)", name);
    // Only this UTS namespace sees the change: the host keeps its name.
    const std::string copy(name);
    if (::sethostname(copy.c_str(), copy.size()) != 0) throw SysError("sethostname", copy);
    // END SOLUTION
}

}  // namespace mydocker::ns
