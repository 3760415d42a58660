#include "mydocker/tar_reader.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <nettle/sha2.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "mydocker/error.hpp"
#include "mydocker/signals.hpp"
#include "mydocker/unique_fd.hpp"

namespace mydocker {
namespace {

/// How much the decompressor asks of the file at once.
constexpr std::size_t kReadBlockSize = 1 << 20;

/// The hex digits of a digest.
std::string hex(const std::uint8_t* bytes, std::size_t length) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string text;
    text.reserve(2 * length);
    for (std::size_t i = 0; i < length; ++i) {
        text += kDigits[bytes[i] >> 4];
        text += kDigits[bytes[i] & 0xf];
    }
    return text;
}

/// A running sha256, with nettle: libarchive is linked with it already, so it costs no
/// library more (and it uses the CPU's SHA instructions where it has them).
class Sha256 {
  public:
    Sha256() { sha256_init(&context_); }

    void update(const void* data, std::size_t size) {
        sha256_update(&context_, size, static_cast<const std::uint8_t*>(data));
    }
    /// "sha256:<hex>"; the object starts over afterwards.
    std::string digest() {
        std::uint8_t bytes[SHA256_DIGEST_SIZE];
        sha256_digest(&context_, sizeof bytes, bytes);
        return "sha256:" + hex(bytes, sizeof bytes);
    }

  private:
    sha256_ctx context_{};
};

/// libarchive's message for its last error on `a`, for ours.
std::string messageOf(::archive* a) {
    const char* text = ::archive_error_string(a);
    return text != nullptr ? text : "unknown libarchive error";
}

/// The compressions layers come in. Each is a library libarchive is linked with: no
/// external program is ever started.
void supportDecompression(::archive* a) {
    ::archive_read_support_filter_gzip(a);
    ::archive_read_support_filter_zstd(a);
    ::archive_read_support_filter_xz(a);
    ::archive_read_support_filter_bzip2(a);
}

}  // namespace

struct TarReader::State {
    UniqueFd fd;
    std::string name;
    ::archive* raw = nullptr;  // decompresses the file: one "raw" entry, the tar's bytes
    ::archive* tar = nullptr;  // parses those bytes as a tar
    Sha256 sha256;
    std::uint64_t size = 0;  // uncompressed bytes handed to the tar reader so far
    bool rawDone = false;
    int interrupted = 0;

    State(UniqueFd file, std::string n) : fd(std::move(file)), name(std::move(n)) {}
    State(const State&) = delete;
    State& operator=(const State&) = delete;
    ~State() {
        if (tar != nullptr) ::archive_read_free(tar);
        if (raw != nullptr) ::archive_read_free(raw);
    }

    /// The next block of uncompressed bytes, hashed: 0 bytes at the end; -1 on error
    /// (with `why` set).
    la_ssize_t nextBlock(const void** buffer, std::string& why) {
        if (rawDone) return 0;
        std::size_t length = 0;
        la_int64_t offset = 0;
        const int r = ::archive_read_data_block(raw, buffer, &length, &offset);
        if (r == ARCHIVE_EOF) {
            rawDone = true;
            return 0;
        }
        if (r < ARCHIVE_WARN) {
            why = messageOf(raw);
            return -1;
        }
        sha256.update(*buffer, length);
        size += length;
        return static_cast<la_ssize_t>(length);
    }

    /// libarchive's read callback for the tar reader: the decompressor's next block.
    static la_ssize_t read(::archive* a, void* client, const void** buffer) {
        auto* state = static_cast<State*>(client);
        // Blocked signals wait for us: an import of a large tar must still stop on Ctrl-C.
        if (const auto signal = signals::takePendingTermination()) {
            state->interrupted = *signal;
            ::archive_set_error(a, EINTR, "interrupted by %s", signals::name(*signal).c_str());
            return -1;
        }
        std::string why;
        try {
            const la_ssize_t n = state->nextBlock(buffer, why);
            if (n < 0) ::archive_set_error(a, EIO, "%s", why.c_str());
            return n;
        } catch (const std::exception& e) {  // never through libarchive's C frames
            ::archive_set_error(a, EIO, "%s", e.what());
            return -1;
        }
    }
};

TarReader::TarReader(int fd, std::string name)
    : state_(std::make_unique<State>(UniqueFd(fd), std::move(name))) {
    State& s = *state_;
    s.raw = ::archive_read_new();
    s.tar = ::archive_read_new();
    if (s.raw == nullptr || s.tar == nullptr) throw Error("archive_read_new: out of memory");

    supportDecompression(s.raw);
    ::archive_read_support_format_raw(s.raw);
    if (::archive_read_open_fd(s.raw, s.fd.get(), kReadBlockSize) != ARCHIVE_OK) {
        throw Error(fmt::format("{}: {}", s.name, messageOf(s.raw)));
    }
    archive_entry* entry = nullptr;
    if (::archive_read_next_header(s.raw, &entry) != ARCHIVE_OK) {
        throw Error(fmt::format("{}: {}", s.name, messageOf(s.raw)));
    }

    // tar in all its dialects (ustar, pax with its xattrs, GNU), and nothing else.
    ::archive_read_support_format_tar(s.tar);
    if (::archive_read_open(s.tar, &s, nullptr, &State::read, nullptr) != ARCHIVE_OK) {
        throw Error(fmt::format("{}: not a tar archive ({})", s.name, messageOf(s.tar)));
    }
}

TarReader TarReader::open(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw SysError("open", path);
    return TarReader(fd, path);
}

TarReader::TarReader(TarReader&&) noexcept = default;
TarReader& TarReader::operator=(TarReader&&) noexcept = default;
TarReader::~TarReader() = default;

struct archive* TarReader::archive() {
    return state_->tar;
}

const std::string& TarReader::name() const {
    return state_->name;
}

int TarReader::interruptedBy() const {
    return state_->interrupted;
}

StreamDigest TarReader::finish() {
    State& s = *state_;
    std::string why;
    const void* block = nullptr;
    for (;;) {
        if (const auto signal = signals::takePendingTermination())
            throw signals::Interrupted(*signal);
        const la_ssize_t n = s.nextBlock(&block, why);
        if (n < 0) throw Error(fmt::format("{}: {}", s.name, why));
        if (n == 0) break;
    }
    return {s.sha256.digest(), s.size};
}

StreamDigest digestOfFile(int fd, const std::string& name) {
    Sha256 sha256;
    std::uint64_t size = 0;
    std::string buffer(kReadBlockSize, '\0');
    for (;;) {
        const ssize_t n = ::read(fd, buffer.data(), buffer.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw SysError("read", name);
        if (n == 0) break;
        sha256.update(buffer.data(), static_cast<std::size_t>(n));
        size += static_cast<std::uint64_t>(n);
    }
    return {sha256.digest(), size};
}

std::string digestOf(std::string_view bytes) {
    Sha256 sha256;
    sha256.update(bytes.data(), bytes.size());
    return sha256.digest();
}

}  // namespace mydocker
