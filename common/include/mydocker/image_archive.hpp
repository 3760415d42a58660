/// @file
/// @brief Lab 08's given code: layers as tars again, images out of the store (`save`),
/// and a committed layer into it (`commit`'s last step).
///
/// A layer's identity, its *diff id*, is the sha256 of its uncompressed tar. The store
/// keeps the files of a layer, not its tar, so a tar is written anew from them, always the
/// same way for the same files (writeLayerTar()): entries in byte order of their paths,
/// numeric owners only, no access or change times, pax headers. The layer commit makes
/// is named by the digest of that tar, so `save` writes it byte for byte again and
/// `import` of the archive finds the same diff id. (A layer imported from another tool's
/// tar gets the digest of the tar written here when saved: Docker keeps the original
/// tar's headers beside each layer, "tar-split", to write the same bytes again; this kit
/// does not.)
///
/// In the tar, overlay's markers become AUFS's again, as every image tool reads them:
///
/// | in the layer's directory                     | in the tar                    |
/// |----------------------------------------------|-------------------------------|
/// | `dir/NAME`, a character device 0/0           | `dir/.wh.NAME`, an empty file |
/// | `dir` with `trusted.overlay.opaque=y`        | `dir/.wh..wh..opq`            |
///
/// Writing tars and archives teaches no kernel mechanism: this is given, with libarchive.
#pragma once

#include <string>
#include <string_view>

#include "mydocker/image.hpp"
#include "mydocker/tar_reader.hpp"
#include "mydocker/unique_fd.hpp"

namespace mydocker::image {

/// Writes the layer in the directory `layerFd` as an uncompressed tar to `outFd` (or
/// only hashes it if `outFd` is -1), with AUFS whiteouts (see the file comment). The same
/// files give the same bytes.
/// @param layerFd the layer's directory, open
/// @param outFd where the tar goes, or -1
/// @param name names the layer in errors
/// @return the tar's digest (the layer's diff id) and size
/// @throws Error from libarchive; SysError if a file cannot be read or the tar written
StreamDigest writeLayerTar(int layerFd, int outFd, const std::string& name);

/// A directory of the store's `<root>/tmp` for one commit or save: made on construction,
/// flock(2)ed while it lives (so the sweep of killed imports leaves it alone), removed
/// with this object. On the store's filesystem: a layer staged in it is renamed into
/// `layers/`.
class StagingDir {
  public:
    /// Makes `<root>/tmp/<kind>-XXXXXX`.
    /// @throws SysError if it cannot be made
    StagingDir(const std::string& root, const std::string& kind);
    StagingDir(const StagingDir&) = delete;
    StagingDir& operator=(const StagingDir&) = delete;
    ~StagingDir();

    /// Its path.
    const std::string& path() const { return path_; }
    /// An open descriptor of it.
    int fd() const { return fd_.get(); }

  private:
    std::string root_;
    std::string path_;
    UniqueFd fd_;
};

/// The image config (OCI's, which Docker reads too) of a record: architecture and os of
/// this machine, its `created`, its run-time config, `rootfs.diff_ids` of its layers and a
/// history entry per layer. The same record gives the same bytes: the image's id is their
/// digest, and `save` writes them as the image's config.
std::string imageConfigJson(const Image& image);

/// `commit`'s last step, under the store's lock: hashes the layer staged in `stagedDir`
/// (writeLayerTar()), renames it into `layers/<hex>` (or drops it if the store has that
/// layer already), and records the image `reference`: `parent`'s layers plus this one,
/// `parent`'s config, created now. All or nothing.
/// @throws UsageError if `reference` is taken (by then); Error if the store cannot be
///         written
/// @return the new image
Image commitLayer(const std::string& root, const Image& parent, const Reference& reference,
                  const std::string& stagedDir);

/// What `save` writes.
enum class ArchiveFormat {
    oci,     ///< an OCI image layout in a tar (`podman save --format oci-archive`)
    docker,  ///< `docker save`'s: manifest.json, repositories, a directory per layer
};

/// Parses `--format`: "oci-archive" (also "oci") or "docker-archive" (also "docker").
/// @throws UsageError otherwise
ArchiveFormat parseArchiveFormat(std::string_view text);

/// `save IMAGE -o FILE`: writes `image` of the store under `root` to `path`, atomically
/// (a temporary file in the same directory, renamed when complete): an OCI layout
/// (oci-layout, index.json, blobs/sha256/ with the manifest, the config and a tar per
/// layer), or `docker save`'s layout (manifest.json, repositories, `<config>.json`,
/// `<layer>/layer.tar`). Layers are uncompressed tars (writeLayerTar()).
/// @throws UsageError if `path`'s directory does not exist; Error otherwise
void saveImage(const std::string& root, const Image& image, const std::string& path,
               ArchiveFormat format);

}  // namespace mydocker::image
