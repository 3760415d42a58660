// Lab 09: a `-v` value, parsed and checked in the parent before anything is created, so
// that bad input is one error line and leaves nothing behind.
#include <fmt/format.h>

#include <string>
#include <string_view>
#include <vector>

#include "mydocker/error.hpp"
#include "mydocker/volumes.hpp"

namespace mydocker::volumes {
namespace {

}  // namespace

VolumeSpec parseVolume(std::string_view value) {
    // Hints:
    // - Docker's -v has two or three fields. SRC is a host path when it starts with '/'
    //   (relative paths are refused: relative to what?), otherwise a volume's name.
    // - The target is a path in the container: absolute, and never its root, which a
    //   volume cannot cover.
    todo("TODO (lab 09): parse SRC:CTRDIR[:ro|:rw] (an absolute host path or a volume name; an absolute target other than /)", value);
}

}  // namespace mydocker::volumes
