// Lab 05's test data, made by the tests themselves with libarchive (nothing is downloaded):
// layer tars entry by entry, `docker save` archives and OCI image layouts around them;
// and a container held alive on an image, to look at it from the host.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "support/lab_test.hpp"

namespace mydocker::test {

/// One entry of a tar the test writes.
struct TarEntry {
    enum class Type { file, dir, symlink, hardlink, fifo, chr, blk };
    std::string path;              ///< as the tar names it ("etc/motd", "../x", "/x")
    Type type = Type::file;        ///< what it is
    std::string data;              ///< a file's content; a symlink's or hard link's target
    mode_t mode = 0644;            ///< permission bits (setuid, setgid, sticky too)
    unsigned uid = 0;              ///< numeric owner
    unsigned gid = 0;              ///< numeric group
    long long mtime = 1700000000;  ///< seconds
    long mtimeNsec = 0;            ///< nanoseconds
    unsigned major = 0;            ///< a device's numbers
    unsigned minor = 0;
    std::vector<std::pair<std::string, std::string>> xattrs;  ///< name, value

    static TarEntry file(std::string path, std::string data, mode_t mode = 0644);
    static TarEntry dir(std::string path, mode_t mode = 0755);
    static TarEntry symlink(std::string path, std::string target);
    static TarEntry hardlink(std::string path, std::string target);
};

/// How a tar or an archive is compressed.
enum class Compression { none, gzip, zstd };

/// A tar (pax format, as Docker writes layers) of `entries`, in this order.
std::string makeTar(const std::vector<TarEntry>& entries,
                    Compression compression = Compression::none);

/// "sha256:<hex>" of `bytes`.
std::string sha256(const std::string& bytes);

/// An image as the tests build it: uncompressed layer tars (bottom first) and its config.
struct TestImage {
    std::vector<std::string> layers;      ///< each an uncompressed tar
    std::vector<std::string> env;         ///< Env
    std::vector<std::string> entrypoint;  ///< Entrypoint
    std::vector<std::string> cmd;         ///< Cmd
    std::string workingDir;               ///< WorkingDir

    /// The image config (OCI/Docker JSON), with rootfs.diff_ids of the layers.
    std::string config() const;
    /// The layers' diff ids, bottom first.
    std::vector<std::string> diffIds() const;
};

/// `docker save`'s layout: manifest.json, <config>.json, <id>/layer.tar per layer;
/// the whole archive compressed with `outer`.
std::string dockerSaveArchive(const TestImage& image, Compression outer = Compression::none);

/// An OCI image layout archive (`podman save --format oci-archive`): oci-layout,
/// index.json, blobs/sha256/...; every layer blob compressed with `layers`.
std::string ociArchive(const TestImage& image, Compression layers = Compression::gzip);

/// Writes `bytes` to a new file `path`.
void writeBytes(const std::string& path, const std::string& bytes);

/// The busybox image the build makes (build/images/busybox.tar), as one layer tar.
std::string busyboxLayer();

/// Where the probe layer puts its FIFO: a held container's CMD is `/probe hold kHoldFifo`.
inline constexpr const char* kHoldFifo = "/hold.fifo";

/// A layer with the probe at /probe and a FIFO at kHoldFifo, plus `extra` entries.
std::string probeLayer(const std::vector<TarEntry>& extra = {});

/// The layer directory of the store under `root` for a layer tar: `<root>/layers/<hex>`.
std::string layerDirOf(const std::string& root, const std::string& layerTar);

/// A container on an image, held alive: the lab executable runs `run [flags] IMAGE CMD...`
/// in the background until its CMD opens kHoldFifo (through /proc/PID/root: the FIFO of
/// the container's own overlay), and stays alive until release().
class HeldImage {
  public:
    /// Starts `argv` (the whole command line; its stdout and stderr go to files in `dir`)
    /// and waits for the container's CMD to hold the FIFO. Check with started().
    HeldImage(std::vector<std::string> argv, const std::string& dir);
    HeldImage(const HeldImage&) = delete;
    HeldImage& operator=(const HeldImage&) = delete;
    ~HeldImage();

    /// Success once CMD holds the FIFO; otherwise why not.
    ::testing::AssertionResult started() const;
    /// The container's PID 1 as the host sees it.
    pid_t hostPid() const { return containerPid_; }
    /// The runtime process.
    pid_t runtimePid() const { return runtimePid_; }
    /// Lets CMD end (closes the FIFO), waits for the runtime and returns what it did.
    RunResult wait(std::chrono::seconds timeout = kDefaultTimeout);
    /// SIGKILLs the runtime (not the container: it dies with it, PR_SET_PDEATHSIG) and reaps it.
    void killRuntime();

  private:
    bool reapWithin(std::chrono::milliseconds timeout);
    std::vector<std::string> argv_;
    std::string outPath_;
    std::string errPath_;
    pid_t runtimePid_ = -1;
    pid_t containerPid_ = -1;
    int writer_ = -1;
    bool reaped_ = false;
    int status_ = 0;
    std::string failure_;
};

}  // namespace mydocker::test
