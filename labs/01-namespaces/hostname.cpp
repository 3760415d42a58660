// Lab 01: the container's hostname, in its own UTS namespace.
#include <unistd.h>

#include <fmt/format.h>

#include "mydocker/error.hpp"
#include "mydocker/namespaces.hpp"

namespace mydocker::ns {

void validateHostname(std::string_view name) {
    // Hints:
    // - Checked in the parent, before anything is created: bad input is one UsageError
    //   (exit 125), and the value goes through quoted(), so that a newline typed in it
    //   cannot make the error two lines.
    // - RFC 1123: a label neither starts nor ends with a hyphen, and a name made of labels
    //   neither starts nor ends with the dot between them.
    todo("TODO (lab 01): check the hostname (length, characters)", name);
}

void setHostname(std::string_view name) {
    // Hint: Only this UTS namespace sees the change: the host keeps its name.
    todo("TODO (lab 01): set the hostname with sethostname(2)", name);
}

}  // namespace mydocker::ns
