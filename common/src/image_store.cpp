// The image store's records and layers: reading, listing, locking, removing.
#include "image_store.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <nlohmann/json.hpp>
#include <set>

#include "mydocker/error.hpp"
#include "mydocker/file.hpp"
#include "mydocker/image.hpp"
#include "mydocker/log.hpp"

namespace mydocker::image {
namespace {

using json = nlohmann::json;

/// The store's directories hold layers that may be setuid programs: root's only.
constexpr unsigned kStoreDirMode = 0700;
constexpr std::string_view kRecordSuffix = ".json";
constexpr std::string_view kDigestPrefix = "sha256:";
constexpr std::size_t kHexDigits = 64;

/// nlohmann's messages start with "[json.exception.type_error.302] ": keep the why.
std::string whyOf(const json::exception& e) {
    std::string why = e.what();
    if (const auto bracket = why.find("] "); bracket != std::string::npos)
        why.erase(0, bracket + 2);
    return why;
}

bool endsWith(std::string_view text, std::string_view suffix) {
    return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

/// `<root>/images/NAME.json` -> the image, checking that the record is the one of NAME.
Image readRecord(const std::string& path, const std::string& expectedName) {
    Image image = imageFromJson(readFile(path), path);
    if (image.reference.str() != expectedName) {
        throw Error(fmt::format("corrupt image record {} (it names the image \"{}\")", path,
                                image.reference.str()));
    }
    return image;
}

/// The records in images/, by the names their files give.
std::vector<std::string> recordNames(const std::string& root) {
    std::vector<std::string> names;
    if (!isDirectory(imagesDir(root))) return names;
    for (const std::string& file : listDir(imagesDir(root))) {
        // writeFileAtomic's temporary files end in ".json.tmp": not records yet.
        if (!endsWith(file, kRecordSuffix)) continue;
        names.push_back(file.substr(0, file.size() - kRecordSuffix.size()));
    }
    return names;
}

/// True when the directory `dir` is flock(2)ed by a live process.
bool isLocked(const std::string& dir) {
    UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) return false;
    return ::flock(fd.get(), LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
}

}  // namespace

// --- layout ---------------------------------------------------------------------------

std::string layersDir(const std::string& root) {
    return joinPath(root, "layers");
}

std::string layerDir(const std::string& root, const std::string& digest) {
    return joinPath(layersDir(root), digestHex(digest));
}

std::string imagesDir(const std::string& root) {
    return joinPath(root, "images");
}

std::string imagePath(const std::string& root, const Reference& reference) {
    return joinPath(imagesDir(root), reference.str() + std::string(kRecordSuffix));
}

std::string digestHex(std::string_view digest) {
    const auto invalid = [&](std::string_view why) {
        return Error(fmt::format("invalid digest {} ({})", quoted(digest), why));
    };
    if (digest.substr(0, kDigestPrefix.size()) != kDigestPrefix) throw invalid("not sha256:");
    const std::string_view hex = digest.substr(kDigestPrefix.size());
    if (hex.size() != kHexDigits) throw invalid("not 64 hex digits");
    for (const char c : hex) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            throw invalid("not lower-case hex digits");
        }
    }
    return std::string(hex);
}

// --- records ----------------------------------------------------------------------------

std::string toJson(const Image& image) {
    const json document = {
        {"version", kImageRecordVersion},
        {"name", image.reference.str()},
        {"id", image.id},
        {"created", image.created},
        {"size", image.size},
        {"layers", image.layers},
        // The field names of an OCI image config's "config", so that it reads as one.
        {"config",
         {{"Env", image.config.env},
          {"Entrypoint", image.config.entrypoint},
          {"Cmd", image.config.cmd},
          {"WorkingDir", image.config.workingDir}}},
    };
    return document.dump(2) + "\n";
}

Image imageFromJson(const std::string& text, const std::string& where) {
    try {
        const json document = json::parse(text);
        const int version = document.at("version").get<int>();
        if (version != kImageRecordVersion) {
            throw Error(fmt::format("corrupt image record {} (format version {}, expected {})",
                                    where, version, kImageRecordVersion));
        }
        Image image;
        image.reference = parseReference(document.at("name").get<std::string>());
        document.at("id").get_to(image.id);
        digestHex(image.id);
        document.at("created").get_to(image.created);
        document.at("size").get_to(image.size);
        document.at("layers").get_to(image.layers);
        for (const auto& layer : image.layers) digestHex(layer);
        const json& config = document.at("config");
        config.at("Env").get_to(image.config.env);
        config.at("Entrypoint").get_to(image.config.entrypoint);
        config.at("Cmd").get_to(image.config.cmd);
        config.at("WorkingDir").get_to(image.config.workingDir);
        return image;
    } catch (const json::exception& e) {
        throw Error(fmt::format("corrupt image record {} ({})", where, whyOf(e)));
    } catch (const Error& e) {
        if (e.message().rfind("corrupt image record", 0) == 0) throw;
        throw Error(fmt::format("corrupt image record {} ({})", where, e.message()));
    }
}

std::optional<Image> findImage(const std::string& root, const Reference& reference) {
    const std::string path = imagePath(root, reference);
    if (!pathExists(path)) return std::nullopt;
    return readRecord(path, reference.str());
}

Image loadImage(const std::string& root, const Reference& reference) {
    if (auto image = findImage(root, reference)) return *image;
    throw UsageError(fmt::format("unknown image {} (import it first: import TAR {})",
                                 quoted(reference.str()), reference.str()));
}

std::vector<Image> listImages(const std::string& root) {
    std::vector<Image> images;
    for (const std::string& name : recordNames(root)) {
        images.push_back(
            readRecord(joinPath(imagesDir(root), name + std::string(kRecordSuffix)), name));
    }
    std::sort(images.begin(), images.end(), [](const Image& a, const Image& b) {
        if (a.created != b.created) return a.created > b.created;  // RFC 3339 sorts as text
        return a.reference.str() < b.reference.str();
    });
    return images;
}

std::vector<std::string> layerDirs(const std::string& root, const Image& image) {
    std::vector<std::string> dirs;
    for (const std::string& layer : image.layers) {
        const std::string dir = layerDir(root, layer);
        if (!isDirectory(dir)) {
            throw Error(fmt::format("image \"{}\" is incomplete (its layer {} is missing from {})",
                                    image.reference.str(), layer, layersDir(root)));
        }
        dirs.push_back(dir);
    }
    return dirs;
}

// --- the lock -------------------------------------------------------------------------------

StoreLock::StoreLock(const std::string& root) {
    makeDirs(root, kStoreDirMode);
    fd_.reset(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd_) throw SysError("open", root);
    while (::flock(fd_.get(), LOCK_EX) != 0) {
        if (errno != EINTR) throw SysError("flock", root);
    }
}

// --- removal ------------------------------------------------------------------------------

namespace detail {

std::string tmpDir(const std::string& root) {
    return joinPath(root, "tmp");
}

void removeDirIfEmpty(const std::string& dir) {
    if (::rmdir(dir.c_str()) != 0 && errno != ENOTEMPTY && errno != EEXIST && errno != ENOENT) {
        throw SysError("rmdir", dir);
    }
}

void sweepTemporaries(const std::string& root) {
    const std::string tmp = tmpDir(root);
    if (!isDirectory(tmp)) return;
    for (const std::string& name : listDir(tmp)) {
        const std::string path = joinPath(tmp, name);
        if (isLocked(path)) continue;  // an import in progress
        log::info("removing {}, left by an import or removal that was killed", path);
        removeAll(path);
    }
    removeDirIfEmpty(tmp);
}

void collectUnusedLayers(const std::string& root) {
    if (!isDirectory(layersDir(root))) return;
    std::set<std::string> used;
    for (const Image& image : listImages(root)) {
        for (const std::string& layer : image.layers) used.insert(digestHex(layer));
    }
    for (const std::string& hex : listDir(layersDir(root))) {
        if (used.count(hex) != 0) continue;
        // Renamed out of layers/ first: a removal cut short must never leave half a layer
        // that a later import would take for a complete one.
        makeDirs(tmpDir(root), kStoreDirMode);
        const std::string from = joinPath(layersDir(root), hex);
        const std::string doomed = joinPath(tmpDir(root), "remove-" + hex);
        if (::rename(from.c_str(), doomed.c_str()) != 0) throw SysError("rename", from);
        removeAll(doomed);
    }
    removeDirIfEmpty(tmpDir(root));
    removeDirIfEmpty(layersDir(root));
}

}  // namespace detail

Image removeImage(const std::string& root, const Reference& reference, const UsersOf& usedBy) {
    StoreLock lock(root);
    detail::sweepTemporaries(root);
    const Image image = loadImage(root, reference);
    if (const std::string user = usedBy(image); !user.empty()) {
        throw UsageError(fmt::format("cannot remove image {} (it is used by {})",
                                     quoted(reference.str()), user));
    }
    const std::string path = imagePath(root, reference);
    if (::unlink(path.c_str()) != 0) throw SysError("unlink", path);
    detail::removeDirIfEmpty(imagesDir(root));
    detail::collectUnusedLayers(root);
    return image;
}

}  // namespace mydocker::image
