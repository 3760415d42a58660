// `import ARCHIVE NAME`: a flat root filesystem, a `docker save` archive or an OCI image
// layout, plain or compressed, into the store. All or nothing (image.hpp tells how).
#include <fcntl.h>
#include <fmt/format.h>
#include <linux/openat2.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>

#include "image_store.hpp"
#include "mydocker/error.hpp"
#include "mydocker/file.hpp"
#include "mydocker/image.hpp"
#include "mydocker/log.hpp"
#include "mydocker/signals.hpp"
#include "mydocker/state.hpp"
#include "mydocker/tar_reader.hpp"

namespace mydocker::image {
namespace {

using json = nlohmann::json;

constexpr unsigned kStoreDirMode = 0700;
/// Manifests, indexes and configs are a few kilobytes; a "manifest" of gigabytes is hostile.
constexpr off_t kMaxJsonSize = 16 << 20;
/// overlayfs stacks at most 500 lower layers (OVL_MAX_STACK in fs/overlayfs/params.h).
constexpr std::size_t kMaxLayers = 500;
/// How deep an OCI index may nest indexes (a multi-platform image has one level).
constexpr int kMaxIndexDepth = 4;

// The files that say what an archive is.
constexpr const char* kDockerManifest = "manifest.json";
constexpr const char* kOciLayout = "oci-layout";
constexpr const char* kOciIndex = "index.json";

// Media types (OCI image spec, and Docker's, which OCI layouts written by skopeo keep).
bool isIndexType(const std::string& type) {
    return type == "application/vnd.oci.image.index.v1+json" ||
           type == "application/vnd.docker.distribution.manifest.list.v2+json";
}
bool isManifestType(const std::string& type) {
    return type == "application/vnd.oci.image.manifest.v1+json" ||
           type == "application/vnd.docker.distribution.manifest.v2+json";
}

/// An archive that is not what it claims: bad input, exit 125.
UsageError invalidArchive(const std::string& archive, const std::string& why) {
    return UsageError(fmt::format("invalid archive {} ({})", quoted(archive), why));
}

std::string whyOf(const json::exception& e) {
    std::string why = e.what();
    if (const auto bracket = why.find("] "); bracket != std::string::npos)
        why.erase(0, bracket + 2);
    return why;
}

/// Opens `path`, a member of an extracted archive, with `dirFd` as its root: the kernel
/// resolves ".." and symlinks as if `dirFd` were "/" (RESOLVE_IN_ROOT), so a hostile
/// manifest naming "../../etc/shadow", or a member that is a symlink to it, reads nothing
/// of the host. (Symlinks inside are fine: `docker save` links a layer that an image has
/// twice, `<id>/layer.tar -> ../<other id>/layer.tar`.)
UniqueFd openMember(int dirFd, const std::string& path, const std::string& archive) {
    open_how how{};
    how.flags = O_RDONLY | O_CLOEXEC;
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
    UniqueFd fd(static_cast<int>(::syscall(SYS_openat2, dirFd, path.c_str(), &how, sizeof how)));
    if (!fd) {
        const int err = errno;
        throw invalidArchive(archive,
                             fmt::format("cannot open its member {}: {} ({})", quoted(path),
                                         std::strerror(err), errnoName(err)));
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) throw SysError("fstat", path);
    if (!S_ISREG(st.st_mode)) {
        throw invalidArchive(archive, fmt::format("its member {} is not a file", quoted(path)));
    }
    return fd;
}

/// True when `name` is a regular file right in `dirFd` (not through a symlink).
bool hasFile(int dirFd, const char* name) {
    struct stat st {};
    return ::fstatat(dirFd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

/// Reads the whole of a (small) member, open at `fd`.
std::string readAll(int fd, const std::string& path, const std::string& archive) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) throw SysError("fstat", path);
    if (st.st_size > kMaxJsonSize) {
        throw invalidArchive(archive, fmt::format("its member {} is too large ({} bytes)",
                                                  quoted(path), st.st_size));
    }
    std::string content(static_cast<std::size_t>(st.st_size), '\0');
    std::size_t done = 0;
    while (done < content.size()) {
        const ssize_t n = ::read(fd, content.data() + done, content.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw SysError("read", path);
        if (n == 0) break;
        done += static_cast<std::size_t>(n);
    }
    content.resize(done);
    return content;
}

/// Reads the whole of a (small) member.
std::string readMember(int dirFd, const std::string& path, const std::string& archive) {
    const UniqueFd fd = openMember(dirFd, path, archive);
    return readAll(fd.get(), path, archive);
}

json parseJson(const std::string& text, const std::string& member, const std::string& archive) {
    try {
        return json::parse(text);
    } catch (const json::exception& e) {
        throw invalidArchive(archive, fmt::format("{} is not JSON: {}", member, whyOf(e)));
    }
}

/// A JSON value that may be absent or null (Docker writes "Cmd": null).
template <class T>
T optionalField(const json& object, const char* key) {
    if (!object.is_object() || !object.contains(key) || object.at(key).is_null()) return T{};
    return object.at(key).get<T>();
}

/// One layer of the image being imported.
struct PendingLayer {
    std::string diffId;      // sha256 of its uncompressed tar
    std::string stagedDir;   // where it was extracted; "" if the store already has it
    std::uint64_t size = 0;  // bytes of its uncompressed tar
};

/// The image being imported, before it is committed.
struct PendingImage {
    std::string configBytes;  // the image config, as the archive has it: its digest is the id
    std::vector<PendingLayer> layers;
};

/// The directory of one import, `<root>/tmp/import-XXXXXX`, flock(2)ed while it lives (the
/// sweep leaves it alone) and removed with this object.
class Staging {
  public:
    explicit Staging(const std::string& root) : root_(root) {
        StoreLock lock(root);  // sweepTemporaries may rmdir tmp/ meanwhile
        detail::sweepTemporaries(root);
        makeDirs(detail::tmpDir(root), kStoreDirMode);
        std::string pattern = joinPath(detail::tmpDir(root), "import-XXXXXX");
        if (::mkdtemp(pattern.data()) == nullptr) throw SysError("mkdtemp", pattern);
        path_ = pattern;
        fd_.reset(::open(path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!fd_) throw SysError("open", path_);
        if (::flock(fd_.get(), LOCK_EX) != 0) throw SysError("flock", path_);
    }
    Staging(const Staging&) = delete;
    Staging& operator=(const Staging&) = delete;
    ~Staging() {
        try {
            removeAll(path_);
            fd_.reset();
            StoreLock lock(root_);
            detail::removeDirIfEmpty(detail::tmpDir(root_));
        } catch (const Error& e) {
            log::warn("{}", e.what());
        }
    }

    /// A new empty directory in the staging area, for one layer; its path and an fd.
    std::pair<std::string, UniqueFd> newDir() {
        const std::string name = fmt::format("layer-{}", count_++);
        if (::mkdirat(fd_.get(), name.c_str(), 0755) != 0) throw SysError("mkdir", name);
        UniqueFd dir(
            ::openat(fd_.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!dir) throw SysError("open", name);
        return {joinPath(path_, name), std::move(dir)};
    }

  private:
    std::string root_;
    std::string path_;
    UniqueFd fd_;
    int count_ = 0;
};

/// Imports one archive: the state of the work, and each step of it.
class Import {
  public:
    Import(const std::string& root, const std::string& archive, const LayerExtractor& extract)
        : root_(root), archive_(archive), extract_(extract), staging_(root) {}

    /// Extracts the archive, then reads it as what it turns out to be.
    PendingImage run() {
        auto [dir, dirFd] = staging_.newDir();
        const StreamDigest flat = walk(openArchive(), "", [&](TarReader& reader) {
            extract_(reader.archive(), dirFd.get());
            return reader.finish();
        });

        if (isDockerSave(dirFd.get())) return fromDockerSave(dirFd.get());
        if (isOciLayout(dirFd.get())) return fromOciLayout(dirFd.get());
        return fromFlatTar(PendingLayer{flat.digest, dir, flat.size});
    }

  private:
    /// A `docker save` archive has a manifest.json at its top: a JSON array of images,
    /// each with a Config and Layers. (A root filesystem that happens to have a file of
    /// that name at its top is not one.)
    bool isDockerSave(int dirFd) {
        if (!hasFile(dirFd, kDockerManifest)) return false;
        const json manifest =
            json::parse(readMember(dirFd, kDockerManifest, archive_), nullptr, false);
        return manifest.is_array() && !manifest.empty() && manifest[0].is_object() &&
               manifest[0].contains("Config") && manifest[0].contains("Layers");
    }

    /// An OCI image layout has an oci-layout file (a JSON object with the layout's
    /// version) and an index.json at its top.
    bool isOciLayout(int dirFd) {
        if (!hasFile(dirFd, kOciLayout) || !hasFile(dirFd, kOciIndex)) return false;
        const json layout = json::parse(readMember(dirFd, kOciLayout, archive_), nullptr, false);
        return layout.is_object() && layout.contains("imageLayoutVersion");
    }

    /// The archive, open: it must be a non-empty file.
    UniqueFd openArchive() {
        UniqueFd fd(::open(archive_.c_str(), O_RDONLY | O_CLOEXEC));
        if (!fd) {
            const int err = errno;
            throw UsageError(fmt::format("cannot read archive {} ({})", quoted(archive_),
                                         err == ENOENT ? "no such file" : std::strerror(err)));
        }
        struct stat st {};
        if (::fstat(fd.get(), &st) != 0) throw SysError("fstat", archive_);
        if (S_ISDIR(st.st_mode)) throw invalidArchive(archive_, "it is a directory");
        if (S_ISREG(st.st_mode) && st.st_size == 0) throw invalidArchive(archive_, "it is empty");
        return fd;
    }

    /// Reads the tar in `file` with `body` (lab 05's walk, or only the digest). Its errors
    /// are the archive's: the walk's name the entry and the rule it broke. `what` names
    /// the stream in them ("layer 2").
    template <class Body>
    StreamDigest walk(UniqueFd file, const std::string& what, Body&& body) {
        std::optional<TarReader> reader;
        try {
            reader.emplace(file.release(),
                           what.empty() ? archive_ : fmt::format("{} of {}", what, archive_));
            return body(*reader);
        } catch (const signals::Interrupted&) {
            throw;
        } catch (const Error& e) {
            if (reader && reader->interruptedBy() != 0) {
                throw signals::Interrupted(reader->interruptedBy());
            }
            throw invalidArchive(archive_,
                                 what.empty() ? e.what() : fmt::format("{}: {}", what, e.what()));
        }
    }

    /// One layer in a file of the archive: extracted unless the store has it, and checked
    /// against the digest the image's config promised.
    PendingLayer layer(UniqueFd file, const std::string& diffId, std::size_t index) {
        const std::string what = fmt::format("layer {}", index + 1);
        PendingLayer pending{diffId, "", 0};
        StreamDigest found;
        const auto shared = extracted_.find(diffId);
        if (shared != extracted_.end() || isDirectory(layerDir(root_, diffId))) {
            // Shared: read only to check that it is what it claims to be.
            if (shared != extracted_.end()) pending.stagedDir = shared->second;
            found = walk(std::move(file), what, [](TarReader& reader) { return reader.finish(); });
        } else {
            auto [dir, dirFd] = staging_.newDir();
            found = walk(std::move(file), what, [&](TarReader& reader) {
                extract_(reader.archive(), dirFd.get());
                return reader.finish();
            });
            pending.stagedDir = dir;
            extracted_[diffId] = dir;
        }
        if (found.digest != diffId) {
            throw invalidArchive(archive_, fmt::format("{} has digest {}, but the image's config "
                                                       "says {}",
                                                       what, found.digest, diffId));
        }
        pending.size = found.size;
        return pending;
    }

    /// The layers' digests, from an image config: rootfs.diff_ids.
    std::vector<std::string> diffIdsOf(const json& config, const std::string& member) {
        try {
            auto ids = config.at("rootfs").at("diff_ids").get<std::vector<std::string>>();
            for (const auto& id : ids) digestHex(id);
            return ids;
        } catch (const json::exception& e) {
            throw invalidArchive(archive_, fmt::format("{}: {}", member, whyOf(e)));
        } catch (const Error& e) {
            throw invalidArchive(archive_, fmt::format("{}: {}", member, e.message()));
        }
    }

    /// Checks the number of layers against the config's and overlay's limits.
    void checkLayerCount(std::size_t layers, std::size_t diffIds) {
        if (layers != diffIds) {
            throw invalidArchive(archive_, fmt::format("it has {} layers, but its config lists {}",
                                                       layers, diffIds));
        }
        if (layers > kMaxLayers) {
            throw invalidArchive(
                archive_,
                fmt::format("it has {} layers; overlayfs stacks at most {}", layers, kMaxLayers));
        }
    }

    // --- a flat root filesystem: one layer, a config made up ---------------------------------
    PendingImage fromFlatTar(PendingLayer layer) {
        const std::string now = nowRfc3339();
        const std::string base = archive_.substr(archive_.rfind('/') + 1);
        const json config = {
            {"architecture", "amd64"},
            {"os", "linux"},
            {"created", now},
            {"config", json::object()},
            {"rootfs", {{"type", "layers"}, {"diff_ids", {layer.diffId}}}},
            {"history", {{{"created", now}, {"comment", "Imported from " + base}}}},
        };
        PendingImage image;
        image.configBytes = config.dump();
        image.layers.push_back(std::move(layer));
        return image;
    }

    // --- docker save: manifest.json, the config, a tar per layer -------------------------------
    PendingImage fromDockerSave(int dirFd) {
        const json manifest =
            parseJson(readMember(dirFd, kDockerManifest, archive_), kDockerManifest, archive_);
        if (!manifest.is_array() || manifest.size() != 1) {
            throw invalidArchive(archive_,
                                 fmt::format("{} must list exactly one image (import takes "
                                             "one image per archive)",
                                             kDockerManifest));
        }
        std::string configPath;
        std::vector<std::string> layerPaths;
        try {
            manifest[0].at("Config").get_to(configPath);
            manifest[0].at("Layers").get_to(layerPaths);
        } catch (const json::exception& e) {
            throw invalidArchive(archive_, fmt::format("{}: {}", kDockerManifest, whyOf(e)));
        }
        PendingImage image;
        image.configBytes = readMember(dirFd, configPath, archive_);
        const json config = parseJson(image.configBytes, configPath, archive_);
        const auto diffIds = diffIdsOf(config, configPath);
        checkLayerCount(layerPaths.size(), diffIds.size());
        for (std::size_t i = 0; i < layerPaths.size(); ++i) {
            image.layers.push_back(
                layer(openMember(dirFd, layerPaths[i], archive_), diffIds[i], i));
        }
        return image;
    }

    // --- an OCI image layout: index -> manifest -> config and layers, all blobs by digest ------
    /// Opens blob `digest` and checks that its content has that digest and `size`.
    UniqueFd openBlob(int dirFd, const std::string& digest, std::int64_t size) {
        std::string hex;
        try {
            hex = digestHex(digest);
        } catch (const Error& e) {
            throw invalidArchive(archive_, e.message());
        }
        UniqueFd fd = openMember(dirFd, "blobs/sha256/" + hex, archive_);
        const StreamDigest found = digestOfFile(fd.get(), digest);
        if (found.digest != digest ||
            (size >= 0 && found.size != static_cast<std::uint64_t>(size))) {
            throw invalidArchive(archive_,
                                 fmt::format("blob {} does not match its digest or size", digest));
        }
        if (::lseek(fd.get(), 0, SEEK_SET) != 0) throw SysError("lseek", digest);
        return fd;
    }

    std::string readBlob(int dirFd, const json& descriptor) {
        try {
            const auto digest = descriptor.at("digest").get<std::string>();
            const UniqueFd fd = openBlob(dirFd, digest, descriptor.value("size", std::int64_t{-1}));
            return readAll(fd.get(), digest, archive_);
        } catch (const json::exception& e) {
            throw invalidArchive(archive_, fmt::format("a descriptor: {}", whyOf(e)));
        }
    }

    /// The one image manifest an index leads to: with several, the one for this machine.
    json chooseManifest(int dirFd, const json& index, int depth) {
        if (depth > kMaxIndexDepth) throw invalidArchive(archive_, "its indexes nest too deep");
        std::vector<json> candidates;
        try {
            for (const json& descriptor : index.at("manifests")) {
                const auto type = descriptor.value("mediaType", std::string());
                if (isManifestType(type) || isIndexType(type)) candidates.push_back(descriptor);
            }
        } catch (const json::exception& e) {
            throw invalidArchive(archive_, fmt::format("{}: {}", kOciIndex, whyOf(e)));
        }
        if (candidates.size() > 1) {
            std::vector<json> forUs;
            for (const json& d : candidates) {
                const json platform = d.value("platform", json::object());
                if (platform.value("os", "") == "linux" &&
                    platform.value("architecture", "") == "amd64") {
                    forUs.push_back(d);
                }
            }
            candidates = forUs;
        }
        if (candidates.size() != 1) {
            throw invalidArchive(archive_,
                                 fmt::format("{} must lead to exactly one linux/amd64 image, "
                                             "found {}",
                                             kOciIndex, candidates.size()));
        }
        const json& chosen = candidates.front();
        const json blob =
            parseJson(readBlob(dirFd, chosen), chosen.value("digest", "a blob"), archive_);
        if (isIndexType(chosen.value("mediaType", "")))
            return chooseManifest(dirFd, blob, depth + 1);
        return blob;
    }

    PendingImage fromOciLayout(int dirFd) {
        const json layout =
            parseJson(readMember(dirFd, kOciLayout, archive_), kOciLayout, archive_);
        if (!layout.is_object() || !layout.contains("imageLayoutVersion")) {
            throw invalidArchive(archive_, fmt::format("{} has no imageLayoutVersion", kOciLayout));
        }
        const json index = parseJson(readMember(dirFd, kOciIndex, archive_), kOciIndex, archive_);
        const json manifest = chooseManifest(dirFd, index, 0);
        PendingImage image;
        std::vector<json> layers;
        try {
            image.configBytes = readBlob(dirFd, manifest.at("config"));
            layers = manifest.at("layers").get<std::vector<json>>();
        } catch (const json::exception& e) {
            throw invalidArchive(archive_, fmt::format("the image manifest: {}", whyOf(e)));
        }
        const json config = parseJson(image.configBytes, "the image config", archive_);
        const auto diffIds = diffIdsOf(config, "the image config");
        checkLayerCount(layers.size(), diffIds.size());
        for (std::size_t i = 0; i < layers.size(); ++i) {
            std::string digest;
            std::int64_t size = -1;
            try {
                layers[i].at("digest").get_to(digest);
                size = layers[i].value("size", std::int64_t{-1});
            } catch (const json::exception& e) {
                throw invalidArchive(archive_, fmt::format("layer {}: {}", i + 1, whyOf(e)));
            }
            image.layers.push_back(layer(openBlob(dirFd, digest, size), diffIds[i], i));
        }
        return image;
    }

    const std::string& root_;
    const std::string& archive_;
    const LayerExtractor& extract_;
    Staging staging_;
    std::map<std::string, std::string> extracted_;  // diff id -> its staged dir (a layer twice)
};

/// The image record of what was imported, from its config.
Image recordOf(const Reference& reference, const PendingImage& pending,
               const std::string& archive) {
    Image image;
    image.reference = reference;
    image.id = digestOf(pending.configBytes);
    std::map<std::string, bool> counted;
    for (const PendingLayer& layer : pending.layers) {
        image.layers.push_back(layer.diffId);
        if (!counted[layer.diffId]) image.size += layer.size;
        counted[layer.diffId] = true;
    }
    try {
        const json config = json::parse(pending.configBytes);
        const json run = config.value("config", json::object());
        image.config.env = optionalField<std::vector<std::string>>(run, "Env");
        image.config.entrypoint = optionalField<std::vector<std::string>>(run, "Entrypoint");
        image.config.cmd = optionalField<std::vector<std::string>>(run, "Cmd");
        image.config.workingDir = optionalField<std::string>(run, "WorkingDir");
        image.created = optionalField<std::string>(config, "created");
    } catch (const json::exception& e) {
        throw invalidArchive(archive, fmt::format("the image config: {}", whyOf(e)));
    }
    if (image.created.empty()) image.created = nowRfc3339();
    return image;
}

UsageError nameTaken(const Reference& reference) {
    return UsageError(
        fmt::format("image name {} is already in use (rmi it first, or choose "
                    "another name)",
                    quoted(reference.str())));
}

/// The last step, under the store's lock: the layers move into layers/, the record is
/// written. Layers that arrived meanwhile from another import are shared, not replaced.
void commit(const std::string& root, const Image& image, const PendingImage& pending) {
    StoreLock lock(root);
    if (findImage(root, image.reference)) throw nameTaken(image.reference);
    makeDirs(layersDir(root), kStoreDirMode);
    makeDirs(imagesDir(root), kStoreDirMode);
    try {
        for (const PendingLayer& layer : pending.layers) {
            const std::string target = layerDir(root, layer.diffId);
            if (isDirectory(target)) continue;
            if (layer.stagedDir.empty() || !isDirectory(layer.stagedDir)) {
                throw Error(
                    fmt::format("layer {} was removed from the store during the import "
                                "(import again)",
                                layer.diffId));
            }
            if (::rename(layer.stagedDir.c_str(), target.c_str()) != 0) {
                throw SysError("rename", layer.stagedDir);
            }
        }
        writeFileAtomic(imagePath(root, image.reference), toJson(image));
    } catch (...) {
        // Layers moved in for nothing: no image names them.
        try {
            detail::collectUnusedLayers(root);
            detail::removeDirIfEmpty(imagesDir(root));
        } catch (const Error& e) {
            log::warn("{}", e.what());
        }
        throw;
    }
}

}  // namespace

Image importArchive(const std::string& root, const std::string& archivePath,
                    const Reference& reference, const LayerExtractor& extract) {
    // Cheap checks first: a taken name is refused before gigabytes are extracted.
    if (findImage(root, reference)) throw nameTaken(reference);
    Import import(root, archivePath, extract);
    const PendingImage pending = import.run();
    const Image image = recordOf(reference, pending, archivePath);
    commit(root, image, pending);
    return image;
}

}  // namespace mydocker::image
