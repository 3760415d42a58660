#include "lab05_support.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <thread>

#include "mydocker/error.hpp"
#include "mydocker/file.hpp"
#include "mydocker/process.hpp"
#include "mydocker/tar_reader.hpp"
#include "mydocker/unique_fd.hpp"

namespace mydocker::test {

using json = nlohmann::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kStartTimeout = 30s;
constexpr auto kPoll = 10ms;

/// libarchive's write callback: appends to a std::string.
la_ssize_t appendTo(archive*, void* client, const void* buffer, size_t length) {
    static_cast<std::string*>(client)->append(static_cast<const char*>(buffer), length);
    return static_cast<la_ssize_t>(length);
}

void check(archive* a, int r, const char* what) {
    if (r < ARCHIVE_WARN) {
        throw std::runtime_error(fmt::format("libarchive {}: {}", what, archive_error_string(a)));
    }
}

mode_t typeBits(TarEntry::Type type) {
    switch (type) {
        case TarEntry::Type::file:
            return AE_IFREG;
        case TarEntry::Type::dir:
            return AE_IFDIR;
        case TarEntry::Type::symlink:
            return AE_IFLNK;
        case TarEntry::Type::hardlink:
            return AE_IFREG;
        case TarEntry::Type::fifo:
            return AE_IFIFO;
        case TarEntry::Type::chr:
            return AE_IFCHR;
        case TarEntry::Type::blk:
            return AE_IFBLK;
    }
    return AE_IFREG;
}

/// A tar of member files (name, bytes), for the archives around layers.
std::string tarOfFiles(const std::vector<std::pair<std::string, std::string>>& files,
                       Compression compression = Compression::none) {
    std::vector<TarEntry> entries;
    for (const auto& [name, bytes] : files) entries.push_back(TarEntry::file(name, bytes));
    return makeTar(entries, compression);
}

std::string hexOf(const std::string& digest) {
    return digest.substr(digest.find(':') + 1);
}

}  // namespace

TarEntry TarEntry::file(std::string path, std::string data, mode_t mode) {
    TarEntry e;
    e.path = std::move(path);
    e.data = std::move(data);
    e.mode = mode;
    return e;
}

TarEntry TarEntry::dir(std::string path, mode_t mode) {
    TarEntry e;
    e.path = std::move(path);
    e.type = Type::dir;
    e.mode = mode;
    return e;
}

TarEntry TarEntry::symlink(std::string path, std::string target) {
    TarEntry e;
    e.path = std::move(path);
    e.type = Type::symlink;
    e.data = std::move(target);
    e.mode = 0777;
    return e;
}

TarEntry TarEntry::hardlink(std::string path, std::string target) {
    TarEntry e;
    e.path = std::move(path);
    e.type = Type::hardlink;
    e.data = std::move(target);
    return e;
}

std::string makeTar(const std::vector<TarEntry>& entries, Compression compression) {
    std::string out;
    archive* a = archive_write_new();
    if (a == nullptr) throw std::runtime_error("archive_write_new failed");
    struct Free {
        archive* a;
        ~Free() { archive_write_free(a); }
    } freeAtEnd{a};
    // Full pax: every entry keeps its times to the nanosecond, as Docker's layers do.
    check(a, archive_write_set_format_pax(a), "set_format_pax");
    // A compressed stream ends where it ends: the 10240-byte blocking of a tape would pad
    // it with zeros that are not part of it (zstd refuses them).
    if (compression != Compression::none)
        check(a, archive_write_set_bytes_in_last_block(a, 1), "bytes_in_last_block");
    if (compression == Compression::gzip)
        check(a, archive_write_add_filter_gzip(a), "add_filter_gzip");
    if (compression == Compression::zstd)
        check(a, archive_write_add_filter_zstd(a), "add_filter_zstd");
    check(a, archive_write_open(a, &out, nullptr, appendTo, nullptr), "open");
    for (const TarEntry& e : entries) {
        archive_entry* entry = archive_entry_new();
        archive_entry_set_pathname(entry, e.path.c_str());
        archive_entry_set_filetype(entry, typeBits(e.type));
        archive_entry_set_perm(entry, e.mode);
        archive_entry_set_uid(entry, e.uid);
        archive_entry_set_gid(entry, e.gid);
        archive_entry_set_mtime(entry, static_cast<time_t>(e.mtime), e.mtimeNsec);
        for (const auto& [name, value] : e.xattrs) {
            archive_entry_xattr_add_entry(entry, name.c_str(), value.data(), value.size());
        }
        switch (e.type) {
            case TarEntry::Type::file:
                archive_entry_set_size(entry, static_cast<la_int64_t>(e.data.size()));
                break;
            case TarEntry::Type::symlink:
                archive_entry_set_symlink(entry, e.data.c_str());
                break;
            case TarEntry::Type::hardlink:
                archive_entry_set_hardlink(entry, e.data.c_str());
                archive_entry_set_size(entry, 0);
                break;
            case TarEntry::Type::chr:
            case TarEntry::Type::blk:
                archive_entry_set_rdevmajor(entry, e.major);
                archive_entry_set_rdevminor(entry, e.minor);
                break;
            default:
                break;
        }
        const int r = archive_write_header(a, entry);
        archive_entry_free(entry);
        check(a, r, "write_header");
        if (e.type == TarEntry::Type::file && !e.data.empty()) {
            if (archive_write_data(a, e.data.data(), e.data.size()) !=
                static_cast<la_ssize_t>(e.data.size())) {
                throw std::runtime_error(
                    fmt::format("libarchive write_data: {}", archive_error_string(a)));
            }
        }
    }
    check(a, archive_write_close(a), "close");
    return out;
}

std::string sha256(const std::string& bytes) {
    return digestOf(bytes);
}

std::vector<std::string> TestImage::diffIds() const {
    std::vector<std::string> ids;
    for (const auto& layer : layers) ids.push_back(sha256(layer));
    return ids;
}

std::string TestImage::config() const {
    json run = json::object();
    if (!env.empty()) run["Env"] = env;
    run["Entrypoint"] = entrypoint.empty() ? json(nullptr) : json(entrypoint);
    run["Cmd"] = cmd.empty() ? json(nullptr) : json(cmd);
    run["WorkingDir"] = workingDir;
    const json config = {
        {"architecture", "amd64"},
        {"os", "linux"},
        {"created", "2024-01-02T03:04:05.123456789Z"},
        {"config", run},
        {"rootfs", {{"type", "layers"}, {"diff_ids", diffIds()}}},
    };
    return config.dump();
}

std::string dockerSaveArchive(const TestImage& image, Compression outer) {
    const std::string config = image.config();
    const std::string configName = hexOf(sha256(config)) + ".json";
    std::vector<TarEntry> entries;
    json layerPaths = json::array();
    std::vector<std::string> written;  // the directories of the layers so far
    for (std::size_t i = 0; i < image.layers.size(); ++i) {
        // docker save names a layer's directory by its (v1) id, which depends on its place
        // in the stack; a layer it has already written is a symlink to the first copy.
        const std::string hex = hexOf(sha256(image.layers[i]));
        const std::string dir = hexOf(sha256(hex + std::to_string(i)));
        layerPaths.push_back(dir + "/layer.tar");
        entries.push_back(TarEntry::dir(dir));
        entries.push_back(TarEntry::file(dir + "/VERSION", "1.0"));
        std::string first;
        for (std::size_t j = 0; j < i; ++j) {
            if (image.layers[j] == image.layers[i]) first = written[j];
        }
        if (first.empty()) {
            entries.push_back(TarEntry::file(dir + "/layer.tar", image.layers[i]));
        } else {
            entries.push_back(TarEntry::symlink(dir + "/layer.tar", "../" + first + "/layer.tar"));
        }
        written.push_back(first.empty() ? dir : first);
    }
    entries.push_back(TarEntry::file(configName, config));
    const json manifest = json::array(
        {{{"Config", configName}, {"RepoTags", {"test:latest"}}, {"Layers", layerPaths}}});
    entries.push_back(TarEntry::file("manifest.json", manifest.dump()));
    return makeTar(entries, outer);
}

std::string ociArchive(const TestImage& image, Compression layers) {
    std::vector<std::pair<std::string, std::string>> files;
    const auto blob = [&](const std::string& bytes) {
        const std::string digest = sha256(bytes);
        files.emplace_back("blobs/sha256/" + hexOf(digest), bytes);
        return digest;
    };
    const char* layerType =
        layers == Compression::gzip   ? "application/vnd.oci.image.layer.v1.tar+gzip"
        : layers == Compression::zstd ? "application/vnd.oci.image.layer.v1.tar+zstd"
                                      : "application/vnd.oci.image.layer.v1.tar";
    json layerDescriptors = json::array();
    for (const auto& layer : image.layers) {
        // Recompressing a tar: read it back as entries would lose nothing, but simpler is
        // to compress its bytes as they are, with a raw filter.
        std::string compressed;
        if (layers == Compression::none) {
            compressed = layer;
        } else {
            archive* a = archive_write_new();
            archive_write_set_format_raw(a);
            archive_write_set_bytes_in_last_block(a, 1);
            if (layers == Compression::gzip) archive_write_add_filter_gzip(a);
            if (layers == Compression::zstd) archive_write_add_filter_zstd(a);
            check(a, archive_write_open(a, &compressed, nullptr, appendTo, nullptr), "open raw");
            archive_entry* entry = archive_entry_new();
            archive_entry_set_filetype(entry, AE_IFREG);
            archive_entry_set_size(entry, static_cast<la_int64_t>(layer.size()));
            check(a, archive_write_header(a, entry), "raw header");
            archive_entry_free(entry);
            if (archive_write_data(a, layer.data(), layer.size()) !=
                static_cast<la_ssize_t>(layer.size())) {
                throw std::runtime_error("libarchive raw write_data failed");
            }
            check(a, archive_write_close(a), "close raw");
            archive_write_free(a);
        }
        const std::string digest = blob(compressed);
        layerDescriptors.push_back(
            {{"mediaType", layerType}, {"digest", digest}, {"size", compressed.size()}});
    }
    const std::string config = image.config();
    const std::string configDigest = blob(config);
    const json manifest = {
        {"schemaVersion", 2},
        {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
        {"config",
         {{"mediaType", "application/vnd.oci.image.config.v1+json"},
          {"digest", configDigest},
          {"size", config.size()}}},
        {"layers", layerDescriptors},
    };
    const std::string manifestBytes = manifest.dump();
    const std::string manifestDigest = blob(manifestBytes);
    const json index = {
        {"schemaVersion", 2},
        {"manifests",
         {{{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
           {"digest", manifestDigest},
           {"size", manifestBytes.size()},
           {"annotations", {{"org.opencontainers.image.ref.name", "latest"}}}}}},
    };
    files.emplace_back("oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
    files.emplace_back("index.json", index.dump());
    return tarOfFiles(files);
}

void writeBytes(const std::string& path, const std::string& bytes) {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd) throw SysError("open", path);
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(fd.get(), bytes.data() + done, bytes.size() - done);
        if (n < 0) throw SysError("write", path);
        done += static_cast<std::size_t>(n);
    }
}

std::string busyboxLayer() {
    static const std::string layer = readFile(joinPath(buildDir(), "images/busybox.tar"));
    return layer;
}

std::string probeLayer(const std::vector<TarEntry>& extra) {
    std::vector<TarEntry> entries = {TarEntry::file("probe", readFile(probeBinary()), 0755)};
    TarEntry fifo;
    fifo.path = std::string(kHoldFifo).substr(1);
    fifo.type = TarEntry::Type::fifo;
    fifo.mode = 0600;
    entries.push_back(fifo);
    entries.insert(entries.end(), extra.begin(), extra.end());
    return makeTar(entries);
}

std::string layerDirOf(const std::string& root, const std::string& layerTar) {
    return joinPath(joinPath(root, "layers"), hexOf(sha256(layerTar)));
}

// --- HeldImage ------------------------------------------------------------------------------

HeldImage::HeldImage(std::vector<std::string> argv, const std::string& dir)
    : argv_(std::move(argv)),
      outPath_(joinPath(dir, "held.out")),
      errPath_(joinPath(dir, "held.err")) {
    UniqueFd out(::open(outPath_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    UniqueFd err(::open(errPath_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    UniqueFd in(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    if (!out || !err || !in) throw SysError("open", dir);
    std::vector<char*> args;
    for (auto& arg : argv_) args.push_back(arg.data());
    args.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) throw SysError("fork");
    if (pid == 0) {
        ::setpgid(0, 0);
        if (::dup2(in.get(), 0) < 0 || ::dup2(out.get(), 1) < 0 || ::dup2(err.get(), 2) < 0)
            ::_exit(127);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    runtimePid_ = pid;
    ::setpgid(pid, pid);

    // The container's CMD opens the FIFO for reading: a non-blocking open for writing
    // fails with ENXIO until then (fifo(7)), and with ENOENT while its root is not yet
    // the image's (before pivot_root, /proc/PID/root is the host's).
    const auto deadline = Clock::now() + kStartTimeout;
    for (;;) {
        if (containerPid_ < 0) {
            const auto children = childrenOf(pid);
            if (children.size() == 1) containerPid_ = children.front();
        }
        if (containerPid_ > 0) {
            const std::string fifo = fmt::format("/proc/{}/root{}", containerPid_, kHoldFifo);
            const int fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
            if (fd >= 0) {
                writer_ = fd;
                return;
            }
        }
        if (reapWithin(0ms)) {
            failure_ = "expected the container to start and hold, but the runtime exited first" +
                       ::testing::PrintToString(wait());
            return;
        }
        if (Clock::now() > deadline) {
            failure_ = "expected the container's CMD to open " + std::string(kHoldFifo) +
                       " within 30 s, but it did not (killed it)";
            killRuntime();
            return;
        }
        std::this_thread::sleep_for(kPoll);
    }
}

HeldImage::~HeldImage() {
    if (!reaped_) wait(5s);
    if (!reaped_) killRuntime();
}

::testing::AssertionResult HeldImage::started() const {
    if (failure_.empty()) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << failure_;
}

bool HeldImage::reapWithin(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (!reaped_) {
        const pid_t r = ::waitpid(runtimePid_, &status_, WNOHANG);
        if (r == runtimePid_ || (r < 0 && errno != EINTR)) {
            reaped_ = true;
            break;
        }
        if (Clock::now() >= deadline) return false;
        std::this_thread::sleep_for(kPoll);
    }
    return true;
}

RunResult HeldImage::wait(std::chrono::seconds timeout) {
    if (writer_ >= 0) {
        ::close(writer_);
        writer_ = -1;
    }
    if (!reapWithin(timeout)) {
        ::kill(-runtimePid_, SIGKILL);
        reapWithin(5s);
    }
    RunResult r;
    r.command = commandLine(argv_);
    r.exitCode = exitCodeOfStatus(status_);
    try {
        r.out = readFile(outPath_);
        r.err = readFile(errPath_);
    } catch (const Error&) {
    }
    return r;
}

void HeldImage::killRuntime() {
    if (writer_ >= 0) {
        ::close(writer_);
        writer_ = -1;
    }
    if (reaped_) return;
    ::kill(runtimePid_, SIGKILL);
    reapWithin(5s);
}

}  // namespace mydocker::test
