/// @file
/// @brief The image store under `--root` (given code for lab 05): layers shared by
/// digest, images as ordered lists of layers with their run-time config.
///
/// @code
/// <root>/layers/<hex>/         one layer: a directory in overlay's own format (a whiteout
///                              is a 0/0 character device, an opaque directory has
///                              trusted.overlay.opaque=y), named by the sha256 of its
///                              uncompressed tar (the "diff id"); shared by every image
///                              that has it; never written once complete
/// <root>/images/<name>.json    an image: its layers' digests bottom first, its config
///                              (Env, Cmd, Entrypoint, WorkingDir), created time, size
/// <root>/tmp/import-XXXXXX/    an import in progress (removed when it ends, and by the
///                              next import if its process was killed)
/// @endcode
///
/// `import TAR NAME` accepts the three kinds of archive images travel in, each plain or
/// compressed (gzip, zstd, xz, bzip2):
/// - a flat root filesystem (`docker export`, `tar -C rootfs -c .`): one layer;
/// - a `docker save` archive: `manifest.json`, the image config, a tar per layer;
/// - an OCI image layout (`podman save --format oci-archive`, `skopeo copy ... oci-archive:`):
///   `oci-layout`, `index.json`, `blobs/sha256/...` (index, manifest, config, layers).
///
/// The archive is extracted once, by lab 05's secure walk (the LayerExtractor), into a
/// temporary directory of the store; if it holds a `manifest.json` or an OCI layout,
/// each of its layers is then extracted the same way. A layer already in the store is
/// not extracted again. Every digest is checked against what the archive promised. Only
/// when everything is complete are the layers renamed into `layers/` and the image
/// recorded, under the store's lock: a failed or interrupted import leaves nothing.
///
/// Parsing manifests, digests and the image list teach no kernel mechanism: this is given.
/// The lesson is the walk over a layer's entries and the overlay mount (overlay.hpp).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mydocker/unique_fd.hpp"

struct archive;

namespace mydocker::image {

/// An image's name, Docker's way: REPOSITORY[:TAG].
struct Reference {
    std::string repository;  ///< lower-case letters and digits, separated by `.`, `_`, `__` or `-`
    std::string tag = "latest";  ///< letters, digits, `_`, `.`, `-`; not starting with `.` or `-`

    /// "busybox:latest".
    std::string str() const;
    /// Equal when both parts are.
    bool operator==(const Reference&) const = default;
};

/// Parses and checks an image name: `busybox`, `busybox:1.36`, `my-app.v2:rc_1`.
/// There are no registries here, so no `/` (nor `host:port/`), and no `@sha256:` digests.
/// @throws UsageError `invalid image name "<name>" (<why>)`
Reference parseReference(std::string_view name);

/// How to run an image, from its config (the OCI image config's "config" object).
struct Config {
    std::vector<std::string> env;         ///< Env: KEY=VALUE
    std::vector<std::string> entrypoint;  ///< Entrypoint: prepended to CMD
    std::vector<std::string> cmd;         ///< Cmd: the default CMD
    std::string workingDir;               ///< WorkingDir: CMD's working directory ("" = "/")

    /// Equal when every field is (for tests).
    bool operator==(const Config&) const = default;
};

/// One image of the store.
struct Image {
    Reference reference;              ///< its name
    std::string id;                   ///< "sha256:<hex>" of its config (Docker's image id)
    std::vector<std::string> layers;  ///< the layers' diff ids, "sha256:<hex>", bottom first
    Config config;                    ///< how to run it
    std::string created;              ///< RFC 3339: when it was built (import time if unknown)
    std::uint64_t size = 0;           ///< bytes of its layers, uncompressed

    /// Equal when every field is (for tests).
    bool operator==(const Image&) const = default;
};

/// The version of the image records this runtime writes and reads.
inline constexpr int kImageRecordVersion = 1;

/// `<root>/layers`.
std::string layersDir(const std::string& root);
/// `<root>/layers/<hex>`: the directory of the layer whose diff id is `digest`.
/// @throws Error if `digest` is not "sha256:" and 64 lower-case hex digits
std::string layerDir(const std::string& root, const std::string& digest);
/// `<root>/images`.
std::string imagesDir(const std::string& root);
/// `<root>/images/<repository>:<tag>.json`.
std::string imagePath(const std::string& root, const Reference& reference);

/// The hex part of "sha256:<64 lower-case hex digits>".
/// @throws Error `invalid digest "<digest>" (...)` otherwise
std::string digestHex(std::string_view digest);

/// Renders an image record as the JSON the store keeps (with the record's version).
std::string toJson(const Image& image);
/// Parses what toJson() wrote.
/// @param json the text of an image record
/// @param where names the file in errors
/// @throws Error `corrupt image record <where> (<why>)`
Image imageFromJson(const std::string& json, const std::string& where);

/// The image named `reference`, if the store has it.
/// @throws Error if its record is corrupt
std::optional<Image> findImage(const std::string& root, const Reference& reference);
/// The image named `reference`.
/// @throws UsageError `unknown image "<name>" (...)` if the store does not have it
Image loadImage(const std::string& root, const Reference& reference);
/// Every image of the store, newest first.
std::vector<Image> listImages(const std::string& root);

/// The directories of `image`'s layers, bottom first, as overlay stacks them.
/// @throws Error if a layer is missing from the store
std::vector<std::string> layerDirs(const std::string& root, const Image& image);

/// The store's lock: flock(2) on `<root>` itself, held while this object lives. Whoever
/// changes the image list or the layers (import's last step, rmi), or relies on them
/// staying (run, while it takes its layers), holds it. Creates `<root>` if missing.
class StoreLock {
  public:
    /// Blocks until the lock is ours.
    /// @throws SysError if `<root>` cannot be made or locked
    explicit StoreLock(const std::string& root);

  private:
    UniqueFd fd_;
};

/// Lab 05's walk: extracts every entry of `tar` (archive_read_next_header(3) onwards)
/// into the directory `layerFd`, securely, converting whiteouts to overlay's format.
/// The image store calls it for the archive and for each layer in it.
using LayerExtractor = std::function<void(struct archive* tar, int layerFd)>;

/// `import ARCHIVE NAME`: adds the image in `archivePath` (see the file comment) to the
/// store as `reference`, extracting with `extract`. All or nothing.
/// @throws UsageError if the name is taken, the file is missing, empty, not an archive,
///         truncated, inconsistent (a digest that does not match) or hostile (what
///         `extract` refuses); Error if the store cannot be written; signals::Interrupted
///         on SIGINT, SIGTERM or SIGHUP
Image importArchive(const std::string& root, const std::string& archivePath,
                    const Reference& reference, const LayerExtractor& extract);

/// Who uses an image: "" if nobody, else a description ("container 4f1c2a9b0e3d").
using UsersOf = std::function<std::string(const Image&)>;

/// `rmi NAME`: removes the image `reference`, then every layer no other image has.
/// `usedBy` is asked under the store's lock, so no `run` can take the image meanwhile.
/// @throws UsageError if there is no such image, or it is in use
/// @return the image as it was
Image removeImage(const std::string& root, const Reference& reference, const UsersOf& usedBy);

/// A size as `docker images` prints it: "4.26MB", "1.2GB", "512B" (powers of 1000).
std::string humanSize(std::uint64_t bytes);

/// How long ago `created` (RFC 3339) was, as `docker images` says it: "2 hours ago",
/// "About a minute ago", "Less than a second ago". "N/A" if it cannot be read.
std::string humanAge(const std::string& created);

}  // namespace mydocker::image
