// Lab 02: check --rootfs in the parent, before anything is created, so that bad
// input is one error line and leaves nothing behind.
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include <fmt/format.h>

#include "mydocker/error.hpp"
#include "mydocker/rootfs.hpp"

namespace mydocker::rootfs {

void validateRootfs(const std::string& dir) {
    todo("lab02: TODO check --rootfs (an absolute path to an existing directory)", dir);
}

}  // namespace mydocker::rootfs
