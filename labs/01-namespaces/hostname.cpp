// Lab 01: the container's hostname, in its own UTS namespace.
#include <unistd.h>

#include <fmt/format.h>

#include "mydocker/error.hpp"
#include "mydocker/namespaces.hpp"

namespace mydocker::ns {

void validateHostname(std::string_view name) {
    todo("TODO (lab 01): check the hostname (length, characters)", name);
}

void setHostname(std::string_view name) {
    todo("TODO (lab 01): set the hostname with sethostname(2)", name);
}

}  // namespace mydocker::ns
