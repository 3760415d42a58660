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

// BEGIN SOLUTION
UsageError unsafe(std::string_view name, std::string_view why) {
    return UsageError(fmt::format("unsafe path {} ({})", quoted(name), why));
}

bool startsWith(std::string_view text, std::string_view prefix) {
    return text.substr(0, prefix.size()) == prefix;
}
// END SOLUTION

}  // namespace

std::string normalizeEntryPath(std::string_view name) {
    // BEGIN SOLUTION: todo("TODO (lab 05): check a tar entry's name (no absolute path, no \"..\") and normalize it", name);
    // An absolute name would be written over the host's file of that name by a careless
    // extractor; a ".." climbs out of the layer. Refuse both (Docker's own check is the
    // same: github.com/moby/moby, pkg/archive, "breakoutError").
    if (!name.empty() && name.front() == '/') throw unsafe(name, "an absolute path");
    std::string path;
    std::size_t start = 0;
    while (start <= name.size()) {
        std::size_t end = name.find('/', start);
        if (end == std::string_view::npos) end = name.size();
        const std::string_view component = name.substr(start, end - start);
        start = end + 1;
        if (component.empty() || component == ".") continue;
        if (component == "..") throw unsafe(name, "a \"..\" component would leave the layer");
        if (!path.empty()) path += '/';
        path += component;
    }
    return path;
    // END SOLUTION
}

LayerPath classifyEntry(std::string_view name) {
    // BEGIN SOLUTION: todo("TODO (lab 05): read a tar entry's name: a file, a whiteout (.wh.NAME), an opaque marker (.wh..wh..opq) or ignored", name);
    // Only the last component can be a marker: `dir/.wh.NAME` deletes `dir/NAME`,
    // `dir/.wh..wh..opq` makes `dir` opaque, and other `.wh..wh.` names are AUFS's own
    // (hard link bookkeeping): nothing to create.
    const std::string path = normalizeEntryPath(name);
    const auto slash = path.rfind('/');
    const std::string dir = slash == std::string::npos ? "" : path.substr(0, slash);
    const std::string_view base =
        std::string_view(path).substr(slash == std::string::npos ? 0 : slash + 1);

    if (base == kOpaqueMarker) return {EntryRole::opaque, dir};
    if (startsWith(base, kMetaPrefix)) return {EntryRole::ignored, path};
    if (startsWith(base, kWhiteoutPrefix)) {
        const std::string_view deleted = base.substr(kWhiteoutPrefix.size());
        if (deleted.empty() || deleted == "." || deleted == "..") {
            throw unsafe(name, "a whiteout of nothing");
        }
        return {EntryRole::whiteout,
                dir.empty() ? std::string(deleted) : dir + "/" + std::string(deleted)};
    }
    return {EntryRole::file, path};
    // END SOLUTION
}

}  // namespace mydocker::overlay
