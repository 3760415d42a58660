// Lab 05 in the driver: a container's layers (layers.hpp).
#include "layers.hpp"

#include <fmt/format.h>

#include <cerrno>

#include "mydocker/error.hpp"
#include "mydocker/file.hpp"
#include "mydocker/image.hpp"
#include "mydocker/log.hpp"
#include "mydocker/overlay.hpp"
#include "mydocker/state.hpp"

namespace mydocker::driver {
namespace {

/// The directories of a container's layers, under `<root>/containers/<id>/`.
constexpr const char* kMergedDir = "rootfs";  // the overlay's mount point: the container's "/"
constexpr const char* kUpperDir = "upper";    // its writes: a plain diff (lab 08 commits it)
constexpr const char* kWorkDir = "work";      // overlay's scratch space, same filesystem
constexpr const char* kLowerDir = "lower";    // the image's layers by short names

/// The root of the container's filesystem is an ordinary directory mode.
constexpr unsigned kMergedMode = 0755;
/// What overlay keeps in progress, and the links to the layers, are root's only.
constexpr unsigned kPrivateMode = 0700;

/// The image's layers, bottom first, each once: a layer that appears twice in a stack (an
/// image's empty layers often share one digest) is kept at its topmost place, which
/// shows exactly what the whole stack shows; overlayfs refuses a directory twice.
std::vector<std::string> distinctLayers(const std::vector<std::string>& dirs) {
    std::vector<std::string> kept;
    for (std::size_t i = 0; i < dirs.size(); ++i) {
        bool higher = false;
        for (std::size_t j = i + 1; j < dirs.size(); ++j) higher = higher || dirs[j] == dirs[i];
        if (!higher) kept.push_back(dirs[i]);
    }
    return kept;
}

}  // namespace

rootfs::RootfsSpec makeContainerLayers(const RunConfig& config) {
    const image::StoreLock lock(config.root);
    const image::Image image = image::loadImage(config.root, image::parseReference(config.image));
    const std::string dir = containerDir(config.root, config.id);

    overlay::OverlaySpec spec;
    spec.layers = distinctLayers(image::layerDirs(config.root, image));
    spec.target = joinPath(dir, kMergedDir);
    spec.upperDir = joinPath(dir, kUpperDir);
    spec.workDir = joinPath(dir, kWorkDir);
    spec.linkDir = joinPath(dir, kLowerDir);
    makeDirs(spec.target, kMergedMode);
    makeDirs(spec.upperDir, kMergedMode);
    makeDirs(spec.workDir, kPrivateMode);
    makeDirs(spec.linkDir, kPrivateMode);
    overlay::makeLayerLinks(spec);

    rootfs::RootfsSpec root;
    root.rootfs = spec.target;
    root.rootMount = overlay::planOverlay(spec);
    log::debug("image {}: {} layers, overlay options {}", image.reference.str(), spec.layers.size(),
               overlay::overlayOptions(spec));
    return root;
}

void removeContainerLayers(const std::string& root, const std::string& id) {
    const std::string dir = containerDir(root, id);
    for (const char* name : {kLowerDir, kWorkDir, kUpperDir, kMergedDir}) {
        removeAll(joinPath(dir, name));
    }
}

std::string containersUsing(const std::string& root, const std::string& image, bool runningOnly) {
    const std::string containers = joinPath(root, "containers");
    if (!isDirectory(containers)) return {};
    for (const std::string& id : listDir(containers)) {
        try {
            const ContainerState state = loadState(root, id);
            if (state.image != image || (runningOnly && state.status == "exited")) continue;
            if (state.status == "exited")
                return fmt::format("stopped container {}: -f removes the image anyway",
                                   shortId(id));
            return fmt::format("running container {}", shortId(id));
        } catch (const SysError& e) {
            if (e.code() == ENOENT) continue;  // a container being created: no record yet
            throw;
        } catch (const Error& e) {
            // A record that cannot be read might be this image's: refuse rather than guess.
            return fmt::format("container {}, whose record cannot be read ({})", shortId(id),
                               e.message());
        }
    }
    return {};
}

}  // namespace mydocker::driver
