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

// BEGIN SOLUTION
/// The error of a bad `-v` value: what it was, and why.
UsageError invalidVolume(std::string_view value, std::string_view why) {
    return UsageError(fmt::format("invalid volume {} ({})", quoted(value), why));
}

/// `value` cut at every ':'.
std::vector<std::string_view> splitFields(std::string_view value) {
    std::vector<std::string_view> fields;
    for (;;) {
        const auto colon = value.find(':');
        fields.push_back(value.substr(0, colon));
        if (colon == std::string_view::npos) return fields;
        value.remove_prefix(colon + 1);
    }
}

/// The mode field: Docker's `ro` and `rw`; anything else is refused, not ignored, so a
/// typo never mounts writable what was meant to be read-only.
bool parseReadOnly(std::string_view value, std::string_view mode) {
    if (mode == "ro") return true;
    if (mode == "rw") return false;
    throw invalidVolume(value, fmt::format("unknown mode {}: ro or rw", quoted(mode)));
}
// END SOLUTION

}  // namespace

VolumeSpec parseVolume(std::string_view value) {
    // BEGIN SOLUTION: todo("TODO (lab 09): parse SRC:CTRDIR[:ro|:rw] (an absolute host path or a volume name; an absolute target other than /)", value);
    // Docker's -v has two or three fields. SRC is a host path when it starts with '/'
    // (relative paths are refused: relative to what?), otherwise a volume's name.
    const std::vector<std::string_view> fields = splitFields(value);
    if (fields.size() < 2 || fields.size() > 3) {
        throw invalidVolume(value, "expected SRC:CTRDIR[:ro|:rw]");
    }
    VolumeSpec spec;
    const std::string_view source = fields[0];
    if (source.starts_with('/')) {
        spec.kind = SourceKind::hostPath;
    } else if (isVolumeName(source)) {
        spec.kind = SourceKind::named;
    } else {
        throw invalidVolume(value,
                            "the source must be an absolute host path or a volume name "
                            "matching [a-zA-Z0-9][a-zA-Z0-9_.-]+");
    }
    spec.source = source;
    // The target is a path in the container: absolute, and never its root, which a
    // volume cannot cover.
    const std::string_view target = fields[1];
    if (!target.starts_with('/')) throw invalidVolume(value, "the target must be an absolute path");
    if (target.find_first_not_of('/') == std::string_view::npos) {
        throw invalidVolume(value, "the target cannot be /");
    }
    spec.target = target;
    if (fields.size() == 3) spec.readOnly = parseReadOnly(value, fields[2]);
    return spec;
    // END SOLUTION
}

}  // namespace mydocker::volumes
