/// @file
/// @brief TarReader: a tar stream read with libarchive, plain or compressed, its
/// uncompressed bytes hashed on the way.
///
/// An image's layer is a tar, stored plain (`docker save`), gzip- or zstd-compressed (OCI
/// archives, `podman save`); the compression is recognised from the data, not the name.
/// Its identity is the sha256 of the *uncompressed* tar (the "diff id" an image config
/// lists), whatever compression carried it. So the reader is two libarchive readers in a
/// row: the first only decompresses (format "raw"), and every block it yields is hashed
/// before the second parses it as a tar:
///
/// @code
///   file -> [libarchive: gzip/zstd/xz/bzip2 or none] -> sha256 -> [libarchive: tar] -> entries
/// @endcode
///
/// Lab 05 walks the entries (overlay::extractLayer() reads archive()); the image store
/// reads finish() afterwards and compares the digest with the one the image promised.
/// Man pages: libarchive(3), archive_read(3), archive_read_data(3), archive_entry(3).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

struct archive;

namespace mydocker {

/// The sha256 and length of a byte stream, as an image names its blobs and layers.
struct StreamDigest {
    std::string digest;      ///< "sha256:<64 hex digits>"
    std::uint64_t size = 0;  ///< bytes
};

/// A tar read from a file descriptor through libarchive. Move-only; closes the file.
class TarReader {
  public:
    /// Reads the tar in `fd`, compressed or not. The decompressor starts reading (to
    /// recognise the compression); the first header is the walk's to read.
    /// @param fd an open file, taken over (closed with this object)
    /// @param name names the stream in errors ("busybox.tar", "layer 2 of busybox.tar")
    /// @throws Error if libarchive cannot be set up
    TarReader(int fd, std::string name);
    /// Opens `path` read-only and reads it as above.
    /// @throws SysError if it cannot be opened
    static TarReader open(const std::string& path);
    /// Takes over `other`'s stream.
    TarReader(TarReader&& other) noexcept;
    /// Closes this stream, then takes over `other`'s.
    TarReader& operator=(TarReader&& other) noexcept;
    TarReader(const TarReader&) = delete;
    TarReader& operator=(const TarReader&) = delete;
    ~TarReader();

    /// The tar reader, before its first header: archive_read_next_header(3) walks it.
    struct archive* archive();

    /// What the stream is called in errors.
    const std::string& name() const;

    /// Once the walk has seen ARCHIVE_EOF (or to skip the walk): reads what is left of
    /// the uncompressed stream (a tar ends with padding the walk need not read) and
    /// returns the digest and size of all of it.
    /// @throws Error if the stream is truncated or corrupt
    StreamDigest finish();

    /// The signal that interrupted a read (SIGINT, SIGTERM, SIGHUP), 0 if none did. The
    /// read then fails as libarchive reports it; the caller rethrows signals::Interrupted.
    int interruptedBy() const;

  private:
    struct State;
    std::unique_ptr<State> state_;
};

/// The sha256 of the bytes in `fd` from its current offset to its end ("sha256:<hex>").
/// @param fd an open file, read to its end (not closed)
/// @param name names the file in errors
/// @throws SysError if it cannot be read
StreamDigest digestOfFile(int fd, const std::string& name);

/// The sha256 of `bytes` ("sha256:<hex>").
std::string digestOf(std::string_view bytes);

}  // namespace mydocker
