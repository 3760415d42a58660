// `commit`'s side of the store (image_archive.hpp): the staging directory, the image
// config of a record, and the new layer renamed into layers/ with its image recorded.
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "image_store.hpp"
#include "mydocker/error.hpp"
#include "mydocker/file.hpp"
#include "mydocker/image_archive.hpp"
#include "mydocker/log.hpp"
#include "mydocker/state.hpp"

namespace mydocker::image {
namespace {

using json = nlohmann::ordered_json;

constexpr unsigned kStoreDirMode = 0700;

/// GOARCH's name of this machine's architecture, as image configs name it.
std::string architecture() {
    utsname name{};
    if (::uname(&name) != 0) throw SysError("uname");
    const std::string machine = name.machine;
    if (machine == "x86_64") return "amd64";
    if (machine == "aarch64") return "arm64";
    if (machine == "i686" || machine == "i386") return "386";
    return machine;
}

/// A list, or null if it is empty (as Docker writes "Cmd": null).
json listOrNull(const std::vector<std::string>& list) {
    return list.empty() ? json(nullptr) : json(list);
}

}  // namespace

std::string imageConfigJson(const Image& image) {
    json run = json::object();
    if (!image.config.env.empty()) run["Env"] = image.config.env;
    run["Entrypoint"] = listOrNull(image.config.entrypoint);
    run["Cmd"] = listOrNull(image.config.cmd);
    if (!image.config.workingDir.empty()) run["WorkingDir"] = image.config.workingDir;
    json history = json::array();
    for (std::size_t i = 0; i < image.layers.size(); ++i) {
        history.push_back({{"created", image.created}, {"created_by", "mydocker"}});
    }
    const json config = {
        {"created", image.created},
        {"architecture", architecture()},
        {"os", "linux"},
        {"config", run},
        {"rootfs", {{"type", "layers"}, {"diff_ids", image.layers}}},
        {"history", history},
    };
    return config.dump();
}

StagingDir::StagingDir(const std::string& root, const std::string& kind) : root_(root) {
    StoreLock lock(root);  // the sweep of tmp/ may rmdir it meanwhile
    detail::sweepTemporaries(root);
    makeDirs(detail::tmpDir(root), kStoreDirMode);
    std::string pattern = joinPath(detail::tmpDir(root), kind + "-XXXXXX");
    if (::mkdtemp(pattern.data()) == nullptr) throw SysError("mkdtemp", pattern);
    path_ = pattern;
    fd_.reset(::open(path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd_) throw SysError("open", path_);
    if (::flock(fd_.get(), LOCK_EX) != 0) throw SysError("flock", path_);
}

StagingDir::~StagingDir() {
    try {
        removeAll(path_);
        fd_.reset();
        StoreLock lock(root_);
        detail::removeDirIfEmpty(detail::tmpDir(root_));
    } catch (const Error& e) {
        log::warn("{}", e.what());
    }
}

Image commitLayer(const std::string& root, const Image& parent, const Reference& reference,
                  const std::string& stagedDir) {
    // Hashed before the lock: the staged layer is this commit's alone, and a big one
    // must not hold up every other command of the store.
    const UniqueFd staged(::open(stagedDir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!staged) throw SysError("open", stagedDir);
    const StreamDigest layer = writeLayerTar(staged.get(), -1, "the new layer");

    Image image;
    image.reference = reference;
    image.layers = parent.layers;
    image.layers.push_back(layer.digest);
    image.config = parent.config;
    image.created = nowRfc3339();
    image.size = parent.size + layer.size;
    image.id = digestOf(imageConfigJson(image));

    StoreLock lock(root);
    if (findImage(root, reference)) {
        throw UsageError(
            fmt::format("image name {} is already in use (rmi it first, or choose "
                        "another name)",
                        quoted(reference.str())));
    }
    // The parent's layers must still be there: an rmi may have run since the copy.
    layerDirs(root, parent);
    makeDirs(layersDir(root), kStoreDirMode);
    makeDirs(imagesDir(root), kStoreDirMode);
    try {
        const std::string target = layerDir(root, layer.digest);
        // The same files as a layer the store has (a commit of nothing new): share it.
        if (!isDirectory(target) && ::rename(stagedDir.c_str(), target.c_str()) != 0) {
            throw SysError("rename", stagedDir);
        }
        writeFileAtomic(imagePath(root, reference), toJson(image));
    } catch (...) {
        try {
            detail::collectUnusedLayers(root);
            detail::removeDirIfEmpty(imagesDir(root));
        } catch (const Error& e) {
            log::warn("{}", e.what());
        }
        throw;
    }
    return image;
}

}  // namespace mydocker::image
