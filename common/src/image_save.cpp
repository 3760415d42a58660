// `save IMAGE -o FILE` (image_archive.hpp): an image of the store as an OCI image layout
// or a `docker save` archive, written with libarchive, atomically.
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

#include "mydocker/error.hpp"
#include "mydocker/file.hpp"
#include "mydocker/image_archive.hpp"

namespace mydocker::image {
namespace {

using json = nlohmann::ordered_json;

// Media types of the OCI image spec (image-spec/media-types.md).
constexpr const char* kIndexType = "application/vnd.oci.image.index.v1+json";
constexpr const char* kManifestType = "application/vnd.oci.image.manifest.v1+json";
constexpr const char* kConfigType = "application/vnd.oci.image.config.v1+json";
constexpr const char* kLayerType = "application/vnd.oci.image.layer.v1.tar";
constexpr const char* kLayoutVersion = "1.0.0";
/// The annotations that name an image in an index: OCI's (Podman, skopeo) and containerd's
/// (Docker 25 and later).
constexpr const char* kRefNameAnnotation = "org.opencontainers.image.ref.name";
constexpr const char* kContainerdNameAnnotation = "io.containerd.image.name";

constexpr mode_t kFileMode = 0644;
constexpr mode_t kDirMode = 0755;
constexpr std::size_t kChunk = 1 << 16;

using ArchivePtr = std::unique_ptr<::archive, decltype(&::archive_write_free)>;
using EntryPtr = std::unique_ptr<::archive_entry, decltype(&::archive_entry_free)>;

/// A layer written to a temporary file, and what its tar is.
struct LayerBlob {
    std::string path;
    StreamDigest digest;
};

/// The archive file being written: a temporary file beside `path`, renamed over it by
/// commit(), removed if the object dies first.
class OutputFile {
  public:
    explicit OutputFile(const std::string& path) : path_(path) {
        const std::size_t slash = path.rfind('/');
        const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash + 1);
        if (!isDirectory(dir)) {
            throw UsageError(
                fmt::format("cannot write {} (no such directory {})", quoted(path), quoted(dir)));
        }
        temporary_ = path + ".tmp-XXXXXX";
        fd_.reset(::mkostemp(temporary_.data(), O_CLOEXEC));
        if (!fd_) throw SysError("mkostemp", temporary_);
    }
    OutputFile(const OutputFile&) = delete;
    OutputFile& operator=(const OutputFile&) = delete;
    ~OutputFile() {
        if (!committed_) ::unlink(temporary_.c_str());
    }
    int fd() const { return fd_.get(); }
    void commit() {
        if (::fchmod(fd_.get(), kFileMode) != 0) throw SysError("fchmod", temporary_);
        if (::fsync(fd_.get()) != 0) throw SysError("fsync", temporary_);
        if (::rename(temporary_.c_str(), path_.c_str()) != 0) throw SysError("rename", temporary_);
        committed_ = true;
    }

  private:
    std::string path_;
    std::string temporary_;
    UniqueFd fd_;
    bool committed_ = false;
};

/// The outer tar, entry by entry.
class ArchiveWriter {
  public:
    ArchiveWriter(int fd, std::string name)
        : name_(std::move(name)), archive_(::archive_write_new(), &::archive_write_free) {
        if (!archive_) throw Error("archive_write_new: out of memory");
        check(::archive_write_set_format_pax_restricted(archive_.get()), "set the tar format");
        check(::archive_write_add_filter_none(archive_.get()), "set no compression");
        check(::archive_write_open_fd(archive_.get(), fd), "open it");
    }

    void directory(const std::string& path) { header(path, AE_IFDIR | kDirMode, 0); }

    void file(const std::string& path, const std::string& content) {
        header(path, AE_IFREG | kFileMode, content.size());
        if (!content.empty() &&
            ::archive_write_data(archive_.get(), content.data(), content.size()) < 0) {
            throw failure("write " + path);
        }
    }

    void fileFrom(const std::string& path, const LayerBlob& blob) {
        header(path, AE_IFREG | kFileMode, blob.digest.size);
        const UniqueFd fd(::open(blob.path.c_str(), O_RDONLY | O_CLOEXEC));
        if (!fd) throw SysError("open", blob.path);
        std::vector<char> buffer(kChunk);
        for (;;) {
            const ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) throw SysError("read", blob.path);
            if (n == 0) break;
            if (::archive_write_data(archive_.get(), buffer.data(), static_cast<size_t>(n)) < 0) {
                throw failure("write " + path);
            }
        }
    }

    void close() { check(::archive_write_close(archive_.get()), "finish it"); }

  private:
    /// Root's, mtime 0: the same image gives the same archive.
    void header(const std::string& path, mode_t mode, std::uint64_t size) {
        EntryPtr e(::archive_entry_new(), &::archive_entry_free);
        if (!e) throw Error("archive_entry_new: out of memory");
        ::archive_entry_set_pathname(e.get(), path.c_str());
        ::archive_entry_set_mode(e.get(), mode);
        ::archive_entry_set_size(e.get(), static_cast<la_int64_t>(size));
        ::archive_entry_set_mtime(e.get(), 0, 0);
        if (::archive_write_header(archive_.get(), e.get()) < ARCHIVE_WARN) {
            throw failure("write the header of " + path);
        }
    }
    void check(int status, const std::string& what) {
        if (status != ARCHIVE_OK) throw failure(what);
    }
    Error failure(const std::string& what) {
        const char* text = ::archive_error_string(archive_.get());
        return Error(fmt::format("writing {}: cannot {} ({})", name_, what,
                                 text != nullptr ? text : "libarchive error"));
    }

    std::string name_;
    ArchivePtr archive_;
};

/// Each layer of `image`, written as a tar into `staging`.
std::vector<LayerBlob> writeLayers(const std::string& root, const Image& image,
                                   const StagingDir& staging) {
    std::vector<LayerBlob> blobs;
    const std::vector<std::string> dirs = layerDirs(root, image);
    for (std::size_t i = 0; i < dirs.size(); ++i) {
        const std::string what = fmt::format("layer {} of {}", i + 1, image.reference.str());
        const UniqueFd layer(::open(dirs[i].c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!layer) throw SysError("open", dirs[i]);
        LayerBlob blob;
        blob.path = joinPath(staging.path(), fmt::format("layer-{}.tar", i));
        const UniqueFd out(
            ::open(blob.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, kFileMode));
        if (!out) throw SysError("open", blob.path);
        blob.digest = writeLayerTar(layer.get(), out.get(), what);
        blobs.push_back(std::move(blob));
    }
    return blobs;
}

/// The record with the diff ids of the tars written (a layer imported from another tool's
/// tar has another digest in the store: see image_archive.hpp).
Image asSaved(const Image& image, const std::vector<LayerBlob>& blobs) {
    Image saved = image;
    for (std::size_t i = 0; i < blobs.size(); ++i) saved.layers[i] = blobs[i].digest.digest;
    return saved;
}

json descriptor(const char* mediaType, const std::string& digest, std::uint64_t size) {
    return {{"mediaType", mediaType}, {"digest", digest}, {"size", size}};
}

std::string blobPath(const std::string& digest) {
    return "blobs/sha256/" + digestHex(digest);
}

void writeOci(ArchiveWriter& out, const Image& image, const std::vector<LayerBlob>& blobs) {
    const std::string config = imageConfigJson(image);
    json layers = json::array();
    for (const LayerBlob& blob : blobs) {
        layers.push_back(descriptor(kLayerType, blob.digest.digest, blob.digest.size));
    }
    const json manifest = {
        {"schemaVersion", 2},
        {"mediaType", kManifestType},
        {"config", descriptor(kConfigType, digestOf(config), config.size())},
        {"layers", layers},
    };
    const std::string manifestBytes = manifest.dump();
    json entry = descriptor(kManifestType, digestOf(manifestBytes), manifestBytes.size());
    entry["annotations"] = {
        {kContainerdNameAnnotation, image.reference.str()},
        {kRefNameAnnotation, image.reference.str()},
    };
    const json index = {
        {"schemaVersion", 2},
        {"mediaType", kIndexType},
        {"manifests", json::array({entry})},
    };
    out.file("oci-layout", json({{"imageLayoutVersion", kLayoutVersion}}).dump());
    out.file("index.json", index.dump());
    out.directory("blobs");
    out.directory("blobs/sha256");
    out.file(blobPath(digestOf(manifestBytes)), manifestBytes);
    out.file(blobPath(digestOf(config)), config);
    for (const LayerBlob& blob : blobs) {
        // An image may have a layer twice: its blob once.
        bool seen = false;
        for (const LayerBlob& other : blobs) {
            if (&other == &blob) break;
            seen = seen || other.digest.digest == blob.digest.digest;
        }
        if (!seen) out.fileFrom(blobPath(blob.digest.digest), blob);
    }
}

void writeDocker(ArchiveWriter& out, const Image& image, const std::vector<LayerBlob>& blobs) {
    const std::string config = imageConfigJson(image);
    const std::string configName = digestHex(digestOf(config)) + ".json";
    json layers = json::array();
    for (const LayerBlob& blob : blobs)
        layers.push_back(digestHex(blob.digest.digest) + "/layer.tar");
    const json manifest = json::array({{
        {"Config", configName},
        {"RepoTags", json::array({image.reference.str()})},
        {"Layers", layers},
    }});
    const json repositories = {
        {image.reference.repository,
         {{image.reference.tag,
           digestHex(blobs.empty() ? digestOf(config) : blobs.back().digest.digest)}}},
    };
    out.file(configName, config);
    for (std::size_t i = 0; i < blobs.size(); ++i) {
        const std::string dir = digestHex(blobs[i].digest.digest);
        bool seen = false;
        for (std::size_t j = 0; j < i; ++j)
            seen = seen || blobs[j].digest.digest == blobs[i].digest.digest;
        if (seen) continue;
        out.directory(dir);
        out.fileFrom(dir + "/layer.tar", blobs[i]);
    }
    out.file("manifest.json", manifest.dump());
    out.file("repositories", repositories.dump());
}

}  // namespace

ArchiveFormat parseArchiveFormat(std::string_view text) {
    if (text == "oci-archive" || text == "oci") return ArchiveFormat::oci;
    if (text == "docker-archive" || text == "docker") return ArchiveFormat::docker;
    throw UsageError(
        fmt::format("invalid --format {} (oci-archive or docker-archive)", quoted(text)));
}

void saveImage(const std::string& root, const Image& image, const std::string& path,
               ArchiveFormat format) {
    OutputFile output(path);
    const StagingDir staging(root, "save");
    const std::vector<LayerBlob> blobs = writeLayers(root, image, staging);
    const Image saved = asSaved(image, blobs);
    ArchiveWriter out(output.fd(), path);
    if (format == ArchiveFormat::oci) {
        writeOci(out, saved, blobs);
    } else {
        writeDocker(out, saved, blobs);
    }
    out.close();
    output.commit();
}

}  // namespace mydocker::image
