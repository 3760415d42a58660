// The verb `commit CONTAINER IMAGE` (lab 08): the container's upper directory becomes a
// new layer on its image's stack, and the stack a new image.
//
//   find the container; check the name, the image, the upper dir   (bad input: 125)
//   stage a directory in the store's tmp/
//   freeze the container's cgroup (a running one)          lab 08: freeze()
//   copy upper/ into the staged directory                  lab 08: copyUpperDir()
//   thaw it (always, even if the copy failed)              lab 08: thaw()
//   hash the layer, rename it into layers/, record the image   (given: commitLayer())
//
// Containers are found by full id or unique prefix (lab 10 adds names).
#include "mydocker/commit.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "lab.hpp"
#include "mydocker/cgroups.hpp"
#include "mydocker/config.hpp"
#include "mydocker/error.hpp"
#include "mydocker/file.hpp"
#include "mydocker/image.hpp"
#include "mydocker/image_archive.hpp"
#include "mydocker/log.hpp"
#include "mydocker/signals.hpp"
#include "mydocker/state.hpp"
#include "mydocker/unique_fd.hpp"
#include "verbs.hpp"

namespace mydocker::driver {
namespace {

/// A test seam: with this variable set to a path, commit writes that file once the
/// container is frozen and waits (at most kPauseLimit) until it is removed before it
/// copies, so that a test can look at the frozen cgroup. Unset, nothing happens.
constexpr const char* kPauseVariable = "MYDOCKER_COMMIT_PAUSE";
constexpr std::chrono::seconds kPauseLimit{30};
constexpr std::chrono::milliseconds kPausePoll{10};
/// How long moving the container's processes out of a v1 freezer cgroup may take.
constexpr std::chrono::milliseconds kReleaseLimit{5000};

/// The container named by `text`: its full id, its name (lab 10's --name), or a prefix
/// of exactly one container's id.
std::string resolveContainer(const std::string& root, const std::string& text) {
    const std::string dir = joinPath(root, "containers");
    std::vector<std::string> matches;
    if (!text.empty() && isDirectory(dir)) {
        const std::vector<std::string> ids = listDir(dir);
        for (const std::string& id : ids) {
            if (id == text) return id;
        }
        // A name before a prefix: a name may look like the start of another's id.
        for (const std::string& id : ids) {
            try {
                if (loadState(root, id).name == text) return id;
            } catch (const std::exception&) {
                // a record being written, or corrupt: not this one
            }
        }
        for (const std::string& id : ids) {
            if (id.rfind(text, 0) == 0) matches.push_back(id);
        }
    }
    if (matches.size() == 1) return matches.front();
    if (matches.empty()) {
        throw UsageError(fmt::format(
            "unknown container {} (no container has that id, name or id prefix)", quoted(text)));
    }
    throw UsageError(
        fmt::format("ambiguous container {} ({} containers' ids start so: give more "
                    "of the id)",
                    quoted(text), matches.size()));
}

/// The paths of `mountPoints` relative to the container's root, as the walk takes them.
std::vector<std::string> relativePaths(const std::vector<std::string>& mountPoints) {
    std::vector<std::string> paths;
    for (std::string path : mountPoints) {
        while (!path.empty() && path.front() == '/') path.erase(0, 1);
        while (!path.empty() && path.back() == '/') path.pop_back();
        if (!path.empty()) paths.push_back(path);
    }
    return paths;
}

/// The mount point of the v1 freezer hierarchy (lab 03 does not join it: only a commit
/// uses it), from this process's mountinfo.
std::string v1FreezerMount() {
    const std::string mountinfo = readFile("/proc/self/mountinfo");
    std::size_t start = 0;
    while (start < mountinfo.size()) {
        const std::size_t end = std::min(mountinfo.find('\n', start), mountinfo.size());
        const std::string line = mountinfo.substr(start, end - start);
        start = end + 1;
        const std::size_t dash = line.find(" - cgroup ");
        if (dash == std::string::npos) continue;
        // "... - cgroup cgroup rw,freezer": the super options name the controllers.
        const std::string options = "," + line.substr(line.rfind(' ') + 1) + ",";
        if (options.find(",freezer,") == std::string::npos) continue;
        std::vector<std::string> fields;
        for (std::size_t p = 0; p < dash;) {
            const std::size_t q = std::min(line.find(' ', p), dash);
            fields.push_back(line.substr(p, q - p));
            p = q + 1;
        }
        if (fields.size() > 4) return fields[4];  // the mount point
    }
    throw Error("this host has no cgroup v1 freezer hierarchy to freeze the container with");
}

/// The freezer cgroup of `pid` in the v1 freezer hierarchy, from /proc/PID/cgroup.
std::string v1FreezerPathOf(pid_t pid) {
    const std::string text = readFile(fmt::format("/proc/{}/cgroup", pid));
    const std::size_t at = text.find(":freezer:");
    if (at == std::string::npos) return "/";
    const std::size_t begin = at + std::string(":freezer:").size();
    return text.substr(begin, text.find('\n', begin) - begin);
}

/// Moves every process listed in `fromDir`'s cgroup.procs into `toDir` (writing a pid
/// moves its threads). A process that exits meanwhile is fine. Returns how many moved.
std::size_t moveProcs(const std::string& fromDir, const std::string& toDir,
                      const std::set<pid_t>& skip = {}) {
    std::size_t moved = 0;
    for (const pid_t pid : cgroups::readProcs(fromDir)) {
        if (skip.count(pid) != 0) continue;
        try {
            writeFile(joinPath(toDir, "cgroup.procs"), std::to_string(pid));
            ++moved;
        } catch (const SysError& e) {
            if (e.code() != ESRCH) throw;
        }
    }
    return moved;
}

/// A container frozen while this object lives, and thawed when it goes (also when the
/// copy fails). On v2 its own cgroup freezes. On v1 (and hybrid hosts, whose controllers
/// are v1's) the freezer is a hierarchy of its own that the container is not in: its
/// processes move into `freezer/mydocker/<id>` for the commit and back afterwards.
class FrozenContainer {
  public:
    explicit FrozenContainer(const ContainerState& state) : state_(state) {
        const cgroups::Mode mode = cgroups::hostMode();
        const std::string path = cgroups::containerPath(state.id);
        if (mode == cgroups::Mode::unified) {
            freezer_ = {2, joinPath(cgroups::kDefaultRoot, path)};
            if (!pathExists(joinPath(freezer_.dir, "cgroup.freeze"))) {
                throw Error(
                    fmt::format("cannot freeze container {} (no {}: Linux 5.2 or later "
                                "has it)",
                                shortId(state.id), joinPath(freezer_.dir, "cgroup.freeze")));
            }
        } else {
            joinV1Freezer(mode, path);
        }
        try {
            commit::freeze(freezer_);
            // v1: a process forked before its parent moved is still outside: in it goes
            // (the kernel freezes it on arrival), until none is left outside.
            while (freezer_.version == 1 &&
                   moveProcs(source_, freezer_.dir, procsOf(freezer_.dir)) > 0) {
                commit::freeze(freezer_);
            }
        } catch (...) {
            release();
            throw;
        }
        log::debug("container {} is frozen ({})", shortId(state.id), freezer_.dir);
    }
    FrozenContainer(const FrozenContainer&) = delete;
    FrozenContainer& operator=(const FrozenContainer&) = delete;
    ~FrozenContainer() { release(); }

  private:
    static std::set<pid_t> procsOf(const std::string& dir) {
        const auto procs = cgroups::readProcs(dir);
        return {procs.begin(), procs.end()};
    }

    void joinV1Freezer(cgroups::Mode mode, const std::string& path) {
        const auto cgroup =
            cgroups::cgroupFor(mode, state_.id, cgroups::kDefaultRoot, cgroups::hostV1Mounts());
        for (const char* controller : {"pids", "cpu", "memory"}) {
            if (cgroup->hasController(controller)) {
                source_ = cgroup->directory(controller);
                break;
            }
        }
        if (source_.empty()) throw Error("no v1 hierarchy lists the container's processes");
        const std::string mount = v1FreezerMount();
        home_ = joinPath(mount, v1FreezerPathOf(state_.pid));
        parent_ = joinPath(mount, cgroups::kParentName);
        cgroups::makeCgroupDir(parent_);
        freezer_ = {1, joinPath(mount, path)};
        cgroups::makeCgroupDir(freezer_.dir);
        moveProcs(source_, freezer_.dir);
    }

    /// Thaws; on v1 also moves the processes back where they were and removes the
    /// freezer cgroup. Never throws: a failure is logged (the container must not stay
    /// frozen because something else went wrong).
    void release() noexcept {
        if (released_) return;
        released_ = true;
        try {
            commit::thaw(freezer_);
            log::debug("container {} is thawed", shortId(state_.id));
        } catch (const std::exception& e) {
            log::warn("container {}: cannot thaw it: {}", shortId(state_.id), e.what());
        }
        if (freezer_.version != 1) return;
        try {
            const auto deadline = std::chrono::steady_clock::now() + kReleaseLimit;
            // A process forked meanwhile is born in the freezer cgroup: move until empty.
            while (::rmdir(freezer_.dir.c_str()) != 0 && errno == EBUSY &&
                   std::chrono::steady_clock::now() < deadline) {
                moveProcs(freezer_.dir, home_);
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
            }
            cgroups::removeIfUnused(parent_);
        } catch (const std::exception& e) {
            log::warn("container {}: {}", shortId(state_.id), e.what());
        }
    }

    const ContainerState& state_;
    commit::Freezer freezer_;
    std::string source_;  // v1: a hierarchy's directory listing the container's processes
    std::string home_;    // v1: the freezer cgroup they came from
    std::string parent_;  // v1: freezer/mydocker
    bool released_ = false;
};

/// The test seam (kPauseVariable): says "frozen" and waits for the file to go.
void pauseIfAsked() {
    const char* path = std::getenv(kPauseVariable);
    if (path == nullptr || *path == '\0') return;
    writeFileAtomic(path, "frozen\n");
    const auto deadline = std::chrono::steady_clock::now() + kPauseLimit;
    while (pathExists(path) && std::chrono::steady_clock::now() < deadline) {
        signals::throwIfInterrupted();
        std::this_thread::sleep_for(kPausePoll);
    }
}

/// The container `state`'s processes are alive: it must be frozen for the copy.
bool isRunning(const ContainerState& state) {
    return state.status != "exited" && processIsAlive(state.pid, state.pidStartTime);
}

/// Checks that the container can be committed as `reference`; returns its image.
image::Image checkCommit(const std::string& root, const ContainerState& state,
                         const image::Reference& reference) {
    if (state.image.empty()) {
        throw UsageError(
            fmt::format("cannot commit container {} (it runs on --rootfs {}, not on "
                        "an image: there is no stack of layers to add one to)",
                        shortId(state.id), quoted(state.rootfs)));
    }
    if (image::findImage(root, reference)) {
        throw UsageError(
            fmt::format("image name {} is already in use (rmi it first, or choose "
                        "another name)",
                        quoted(reference.str())));
    }
    if (!isDirectory(joinPath(containerDir(root, state.id), "upper"))) {
        throw UsageError(
            fmt::format("cannot commit container {} (it has exited, and its upper "
                        "directory went with it: commit a container while it runs)",
                        shortId(state.id)));
    }
    return image::loadImage(root, image::parseReference(state.image));
}

/// The diff walk, with the container frozen if it runs.
void copyUpper(const std::string& root, const ContainerState& state, int layerFd) {
    const std::string upper = joinPath(containerDir(root, state.id), "upper");
    const UniqueFd upperFd(::open(upper.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!upperFd) throw SysError("open", upper);
    std::optional<FrozenContainer> frozen;
    if (isRunning(state)) {
        withContext("freeze the container", [&] { frozen.emplace(state); });
        pauseIfAsked();
    }
    withContext("copy its upper directory", [&] {
        commit::copyUpperDir(upperFd.get(), layerFd, relativePaths(state.mountPoints));
    });
}

int commitContainer(const std::string& root, const std::string& container,
                    const std::string& name) {
    // The name first: a bad one is refused before anything is looked at.
    const image::Reference reference = image::parseReference(name);
    const ContainerState state = loadState(root, resolveContainer(root, container));
    const image::Image parent = checkCommit(root, state, reference);

    const image::StagingDir staging(root, "commit");
    constexpr const char* kLayer = "layer";
    if (::mkdirat(staging.fd(), kLayer, 0755) != 0) throw SysError("mkdirat", staging.path());
    {
        const UniqueFd layerFd(
            ::openat(staging.fd(), kLayer, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!layerFd) throw SysError("openat", staging.path());
        copyUpper(root, state, layerFd.get());
    }
    signals::throwIfInterrupted();
    const image::Image image =
        image::commitLayer(root, parent, reference, joinPath(staging.path(), kLayer));
    // As `docker commit` does: the new image's id.
    std::fputs(fmt::format("{}\n", image.id).c_str(), stdout);
    return 0;
}

}  // namespace

Verb addCommitVerb(CLI::App& app, const Globals& globals) {
    CLI::App* command =
        app.add_subcommand("commit", "Create a new image from a container's changes");
    struct Arguments {
        std::string container;
        std::string image;
    };
    auto args = std::make_shared<Arguments>();
    command->add_option("container", args->container, "The container: its id or a prefix of it")
        ->required();
    command->add_option("image", args->image, "The new image's name, REPOSITORY[:TAG]")->required();
    return Verb{command, [args, &globals] {
                    return commitContainer(globals.root, args->container, args->image);
                }};
}

}  // namespace mydocker::driver
