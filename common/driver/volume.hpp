// Lab 09, the driver's side: `volume ls|rm`, and the volumes of a run made ready for
// the child (host directories made, named volumes made and held, the mounts added to
// the container's RootfsSpec and to its record).
#pragma once

#include <string>
#include <vector>

#include "mydocker/config.hpp"
#include "mydocker/rootfs.hpp"
#include "mydocker/state.hpp"
#include "mydocker/volumes.hpp"

namespace mydocker::driver {

/// Checks the `-v` values of a run (parseVolume()) before anything is made.
/// @throws UsageError for a bad value, or volumes without a root of the container's own
std::vector<volumes::VolumeSpec> checkVolumeFlags(const std::vector<std::string>& values,
                                                  const RunConfig& config);

/// The volumes of one run, from the pipeline's step to its undo.
class RunVolumes {
  public:
    /// Makes each missing host directory (0755, as Docker does), makes and holds each
    /// named volume (VolumeUse), then adds the mounts to `spec.volumes` and `state.volumes`.
    void prepare(const RunConfig& config, rootfs::RootfsSpec& spec, ContainerState& state);

    /// The undo: lets go of the named volumes; if CMD never ran, also removes what
    /// prepare() made (the host directories, still empty, and the new volumes).
    void release(const std::string& root, bool ran);

  private:
    std::vector<volumes::VolumeUse> uses_;
    std::vector<std::string> madeHostDirs_;  // deepest first
    std::vector<std::string> madeVolumes_;
};

}  // namespace mydocker::driver
