// Lab 05: the names in a layer tar, read safely and AUFS's way.
//
// A tar entry's name is text written by whoever made the tar: it becomes a path only
// once checked. Then its last component says whether it is a file, or one of the
// whiteout markers Docker's layer tars inherited from AUFS (overlay.hpp has the table).
// Both functions are pure: no system call, so every rule is unit-tested.
#include <fmt/format.h>

#include "mydocker/error.hpp"
#include "mydocker/overlay.hpp"

namespace mydocker::overlay {
namespace {

// The AUFS whiteout markers, as Docker's layer tars carry them.
constexpr std::string_view kWhiteoutPrefix = ".wh.";
constexpr std::string_view kMetaPrefix = ".wh..wh.";
constexpr std::string_view kOpaqueMarker = ".wh..wh..opq";

}  // namespace

std::string normalizeEntryPath(std::string_view name) {
    // Hint: An absolute name would be written over the host's file of that name by a careless
    // extractor; a ".." climbs out of the layer. Refuse both (Docker's own check is the
    // same: github.com/moby/moby, pkg/archive, "breakoutError").
    todo("TODO (lab 05): check a tar entry's name (no absolute path, no \"..\") and normalize it", name);
}

LayerPath classifyEntry(std::string_view name) {
    // Hint: Only the last component can be a marker: `dir/.wh.NAME` deletes `dir/NAME`,
    // `dir/.wh..wh..opq` makes `dir` opaque, and other `.wh..wh.` names are AUFS's own
    // (hard link bookkeeping): nothing to create.
    todo("TODO (lab 05): read a tar entry's name: a file, a whiteout (.wh.NAME), an opaque marker (.wh..wh..opq) or ignored", name);
}

}  // namespace mydocker::overlay
