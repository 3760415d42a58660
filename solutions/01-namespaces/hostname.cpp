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
    // Checked in the parent, before anything is created: bad input is one UsageError
    // (exit 125), and the value goes through quoted(), so that a newline typed in it
    // cannot make the error two lines.
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
    // RFC 1123: a label neither starts nor ends with a hyphen, and a name made of labels
    // neither starts nor ends with the dot between them.
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
