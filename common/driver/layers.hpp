// Lab 05 in the driver: a container's layers. Its image's are shared and read-only; its
// own upper and work directories are made before the child is cloned and removed with
// the container. The overlay itself is mounted by the child, in its own mount namespace
// (the plan in the RootfsSpec made here), so the host never sees it.
#pragma once

#include <string>

#include "mydocker/config.hpp"
#include "mydocker/rootfs.hpp"

namespace mydocker::driver {

/// The pipeline's step "resolve the image, make upper/work": under the image store's
/// lock (so no rmi removes a layer meanwhile), finds the layers of `config.image`, makes
/// `<container>/rootfs`, `upper`, `work` and `lower` (the layers' short names), and
/// returns the spec of the container's root: lab 02's plan with the overlay of those
/// layers in place of the bind mount of the rootfs.
/// @throws Error if the image is gone or a directory cannot be made
rootfs::RootfsSpec makeContainerLayers(const RunConfig& config);

/// Its undo: removes those directories of container `id` (the overlay on `rootfs` was
/// the child's, gone with its mount namespace). Safe to call twice.
void removeContainerLayers(const std::string& root, const std::string& id);

/// Who uses the image named `image` (Reference::str()): "container 4f1c2a9b0e3d" for the
/// first container recorded with it, running or stopped (with `runningOnly`: one not yet
/// exited, whose overlay has the image's layers as its lower dirs); "" if none.
std::string containersUsing(const std::string& root, const std::string& image,
                            bool runningOnly = false);

}  // namespace mydocker::driver
