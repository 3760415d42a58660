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

void makeLayerLinks(const OverlaySpec& spec) {
    // Hint: mount(2) reads one page of options: a hundred layers' paths in the store (about 100
    // bytes each) do not fit, a hundred short names do.
    todo("TODO (lab 05): give every layer a short name: a symlink in spec.linkDir to its directory", spec);
}

std::string overlayOptions(const OverlaySpec& spec) {
    // Hint: lowerdir= lists the topmost layer first: the reverse of the image's order. The
    // other three options keep upperdir a plain diff of the container's changes.
    todo("TODO (lab 05): the overlay's options: lowerdir= (short names, top first), upperdir=, workdir=, redirect_dir=off,index=off,metacopy=off", spec);
}

std::vector<rootfs::MountStep> planOverlay(const OverlaySpec& spec) {
    // Hint: The short names are relative: overlay resolves them from the working directory of
    // the process that calls mount(2), once; then the mount holds the layers themselves.
    todo("TODO (lab 05): plan the overlay mount: change to linkDir, then mount overlay on the target", spec);
}

}  // namespace mydocker::overlay
