// Lab 09's verb, `volume ls`, `volume rm NAME`; and the volumes of `run`, made ready in
// the parent for the child to mount (volume.hpp).
#include "volume.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <memory>

#include "lab.hpp"
#include "mydocker/error.hpp"
#include "mydocker/file.hpp"
#include "mydocker/log.hpp"
#include "verbs.hpp"

namespace mydocker::driver {
namespace {

/// A missing host directory is made as Docker makes it.
constexpr unsigned kHostDirMode = 0755;

/// The directory above `path` ("/a/b" -> "/a", "/a" -> "/").
std::string parentOf(const std::string& path) {
    const auto slash = path.find_last_of('/');
    return slash == 0 || slash == std::string::npos ? std::string("/") : path.substr(0, slash);
}

/// `path` without trailing slashes ("/a/b/" -> "/a/b"), "/" kept.
std::string withoutTrailingSlash(std::string path) {
    while (path.size() > 1 && path.back() == '/') path.pop_back();
    return path;
}

/// The directories mkdir -p `path` would make, deepest first.
std::vector<std::string> missingDirs(const std::string& path) {
    std::vector<std::string> missing;
    for (std::string dir = path; dir != "/" && !pathExists(dir); dir = parentOf(dir)) {
        missing.push_back(dir);
    }
    return missing;
}

/// Prints the volumes as `docker volume ls` does.
void printVolumes(const std::string& root) {
    std::puts("DRIVER    VOLUME NAME");
    for (const std::string& name : volumes::listVolumes(root)) {
        std::printf("local     %s\n", name.c_str());
    }
}

}  // namespace

std::vector<volumes::VolumeSpec> checkVolumeFlags(const std::vector<std::string>& values,
                                                  const RunConfig& config) {
    std::vector<volumes::VolumeSpec> specs;
    for (const std::string& value : values) specs.push_back(volumes::parseVolume(value));
    if (!specs.empty() && config.rootfs.empty() && config.image.empty()) {
        throw UsageError("cannot mount volumes in the host's root (-v needs an image or --rootfs)");
    }
    return specs;
}

void RunVolumes::prepare(const RunConfig& config, rootfs::RootfsSpec& spec, ContainerState& state) {
    for (const volumes::VolumeSpec& volume : config.volumes) {
        rootfs::BindMount mount;
        mount.target = volume.target;
        mount.readOnly = volume.readOnly;
        if (volume.kind == volumes::SourceKind::named) {
            uses_.emplace_back(config.root, volume.source);
            if (uses_.back().created()) madeVolumes_.push_back(volume.source);
            mount.source = uses_.back().dataDir();
            mount.copyUp = true;
        } else {
            const std::string source = withoutTrailingSlash(volume.source);
            const std::vector<std::string> missing = missingDirs(source);
            if (!missing.empty()) {
                log::debug("making the host directory {}", source);
                makeDirs(source, kHostDirMode);
                madeHostDirs_.insert(madeHostDirs_.end(), missing.begin(), missing.end());
            }
            // What the path is now (a symlink is followed, as mount(2) follows it).
            struct stat st {};
            if (::stat(source.c_str(), &st) != 0) throw SysError("stat", source);
            mount.source = source;
            mount.isFile = !S_ISDIR(st.st_mode);
        }
        state.volumes.push_back({volume.kind == volumes::SourceKind::named ? volume.source : "",
                                 mount.source, mount.target, mount.readOnly});
        spec.volumes.push_back(mount);
    }
}

void RunVolumes::release(const std::string& root, bool ran) {
    uses_.clear();  // the locks: `volume rm` may now remove them
    if (ran) return;
    for (const std::string& dir : madeHostDirs_) {
        // Only if still empty: what is in it now is not ours to remove.
        if (::rmdir(dir.c_str()) != 0 && errno != ENOTEMPTY && errno != EEXIST && errno != ENOENT) {
            throw SysError("rmdir", dir);
        }
    }
    for (const std::string& name : madeVolumes_) {
        try {
            volumes::removeVolume(root, name);
        } catch (const UsageError&) {
            // Another container took it up meanwhile: it is that container's now.
        }
    }
}

Verb addVolumeVerb(CLI::App& app, const Globals& globals) {
    CLI::App* command = app.add_subcommand("volume", "Manage volumes");
    command->require_subcommand(1);
    auto name = std::make_shared<std::string>();
    CLI::App* ls = command->add_subcommand("ls", "List volumes");
    CLI::App* rm = command->add_subcommand("rm", "Remove a volume (not while a container uses it)");
    rm->add_option("name", *name, "NAME")->required();
    return Verb{command, [name, ls, rm, &globals] {
                    if (ls->parsed()) {
                        printVolumes(globals.root);
                    } else if (rm->parsed()) {
                        volumes::removeVolume(globals.root, *name);
                        std::puts(name->c_str());
                    }
                    return 0;
                }};
}

}  // namespace mydocker::driver
