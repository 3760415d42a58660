// Lab 05: a container's root as an overlay of its image's layers.
//
// The mount is planned here as two steps of lab 02's plan (RootfsSpec::rootMount), which
// the child carries out in its own mount namespace, after making its mounts private and
// in place of lab 02's bind mount of the rootfs: so the overlay never appears in the
// host's mount table, and dies with the container's mount namespace even if the runtime
// is killed.
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <string>

#include "mydocker/error.hpp"
#include "mydocker/overlay.hpp"
#include "mydocker/unique_fd.hpp"

namespace mydocker::overlay {

// BEGIN SOLUTION
namespace {

/// The short name of the layer at `index` (0 is the bottom one) in the link directory:
/// "1", "2"... A hundred layers take under 400 bytes of lowerdir=.
std::string linkName(std::size_t index) {
    return std::to_string(index + 1);
}

/// A path as overlay's option parser wants it: ',' separates options and ':' lower
/// layers, so both (and the escaping '\') are escaped with '\'.
std::string escapeOption(const std::string& path) {
    std::string escaped;
    for (const char c : path) {
        if (c == ',' || c == ':' || c == '\\') escaped += '\\';
        escaped += c;
    }
    return escaped;
}

}  // namespace
// END SOLUTION

void makeLayerLinks(const OverlaySpec& spec) {
    // BEGIN SOLUTION: todo("TODO (lab 05): give every layer a short name: a symlink in spec.linkDir to its directory", spec);
    // mount(2) reads one page of options: a hundred layers' paths in the store (about 100
    // bytes each) do not fit, a hundred short names do.
    const UniqueFd dir(::open(spec.linkDir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir) throw SysError("open", spec.linkDir);
    for (std::size_t i = 0; i < spec.layers.size(); ++i) {
        if (::symlinkat(spec.layers[i].c_str(), dir.get(), linkName(i).c_str()) != 0) {
            throw SysError("symlinkat", spec.layers[i]);
        }
    }
    // END SOLUTION
}

std::string overlayOptions(const OverlaySpec& spec) {
    // BEGIN SOLUTION: todo("TODO (lab 05): the overlay's options: lowerdir= (short names, top first), upperdir=, workdir=, redirect_dir=off,index=off,metacopy=off", spec);
    // lowerdir= lists the topmost layer first: the reverse of the image's order. The
    // other three options keep upperdir a plain diff of the container's changes.
    std::string lower;
    for (std::size_t i = spec.layers.size(); i-- > 0;) {
        if (!lower.empty()) lower += ':';
        lower += linkName(i);
    }
    std::string options =
        fmt::format("lowerdir={},upperdir={},workdir={},redirect_dir=off,index=off,metacopy=off",
                    lower, escapeOption(spec.upperDir), escapeOption(spec.workDir));
    if (options.size() > kMaxMountDataSize) {
        throw Error(
            fmt::format("cannot mount {} layers (their overlay options take {} bytes; "
                        "mount(2) reads at most {})",
                        spec.layers.size(), options.size(), kMaxMountDataSize));
    }
    return options;
    // END SOLUTION
}

std::vector<rootfs::MountStep> planOverlay(const OverlaySpec& spec) {
    // BEGIN SOLUTION: todo("TODO (lab 05): plan the overlay mount: change to linkDir, then mount overlay on the target", spec);
    // The short names are relative: overlay resolves them from the working directory of
    // the process that calls mount(2), once; then the mount holds the layers themselves.
    return {
        rootfs::MountStep::changeDir(spec.linkDir),
        rootfs::MountStep::mount("overlay", spec.target, "overlay", 0, overlayOptions(spec)),
    };
    // END SOLUTION
}

}  // namespace mydocker::overlay
