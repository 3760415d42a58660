// Lab 03: what both cgroup versions share: file access, making and removing one
// directory, and the runtime's entry point, createForContainer().
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <thread>

#include <fmt/format.h>

#include "mydocker/cgroups.hpp"
#include "mydocker/error.hpp"
#include "mydocker/file.hpp"
#include "mydocker/log.hpp"
#include "mydocker/scope_guard.hpp"

namespace mydocker::cgroups {

std::string containerPath(const std::string& id) { return joinPath(kParentName, id); }

std::string Cgroup::filePath(std::string_view controller, std::string_view file) const {
    return joinPath(directory(controller), file);
}

bool Cgroup::hasFile(std::string_view controller, std::string_view file) const {
    return hasController(controller) && pathExists(filePath(controller, file));
}

std::string Cgroup::read(std::string_view controller, std::string_view file) const {
    return readLine(filePath(controller, file));
}

void Cgroup::write(std::string_view controller, std::string_view file,
                   std::string_view value) const {
    const std::string path = filePath(controller, file);
    // `--log-level debug` shows every knob the runtime turns: the lab, step by step.
    log::debug("cgroup: {} <- {}", path, value);
    writeFile(path, value);
}

bool makeCgroupDir(const std::string& dir) {
    // The kernel fills a new cgroup directory with its files; the mode is the usual one.
    constexpr mode_t kDirMode = 0755;
    if (::mkdir(dir.c_str(), kDirMode) == 0) return true;
    if (errno == EEXIST) return false;
    throw SysError("mkdir", dir);
}

void removeIfUnused(const std::string& dir) {
    // A cgroup with child cgroups answers EBUSY; a plain directory (a test's fake tree)
    // with files in it, ENOTEMPTY.
    if (::rmdir(dir.c_str()) != 0 && errno != ENOENT && errno != EBUSY && errno != ENOTEMPTY) {
        throw SysError("rmdir", dir);
    }
}

std::vector<std::string> splitList(std::string_view text, char separator) {
    std::vector<std::string> pieces;
    std::size_t start = 0;
    while (start <= text.size()) {
        std::size_t end = text.find(separator, start);
        if (end == std::string_view::npos) end = text.size();
        if (end > start) pieces.emplace_back(text.substr(start, end - start));
        start = end + 1;
    }
    return pieces;
}

std::map<std::string, std::uint64_t, std::less<>> parseFlatKeyed(std::string_view content) {
    std::map<std::string, std::uint64_t, std::less<>> values;
    for (const std::string& line : splitList(content, '\n')) {
        const auto words = splitList(line, ' ');
        if (words.size() != 2) continue;
        try {
            values[words[0]] = std::stoull(words[1]);
        } catch (const std::exception&) {
            // Not a number ("max"): not a counter, skip it.
        }
    }
    return values;
}

std::vector<pid_t> readProcs(const std::string& dir) {
    std::vector<pid_t> pids;
    for (const std::string& line : splitList(readFile(joinPath(dir, "cgroup.procs")), '\n')) {
        pids.push_back(static_cast<pid_t>(std::stol(line)));
    }
    return pids;
}

void killProcs(const std::string& dir) {
    if (!isDirectory(dir)) return;
    for (const pid_t pid : readProcs(dir)) {
        // ESRCH: it exited between the read and the kill, which is what we want.
        if (::kill(pid, SIGKILL) != 0 && errno != ESRCH) {
            throw SysError("kill", std::to_string(pid));
        }
    }
}

void removeCgroupDir(const std::string& dir, int timeoutMillis) {
    // BEGIN SOLUTION: todo("TODO (lab 03): rmdir the cgroup, killing what is left while it is EBUSY", dir, timeoutMillis);
    using Clock = std::chrono::steady_clock;
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeoutMillis);
    for (;;) {
        // A cgroup directory is removed with rmdir(2) although it lists files: they are
        // the kernel's, not real ones (rm -r would fail on them).
        if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return;
        // EBUSY: processes are still in it. After CMD (PID 1) exits the kernel kills the
        // rest of its PID namespace, but their exits may not have finished yet.
        if (errno != EBUSY) throw SysError("rmdir", dir);
        // Retry until timeoutMillis have passed, then fail with an error that says how
        // many processes are still in it.
        if (Clock::now() >= deadline) {
            throw Error(fmt::format("rmdir({}): still busy after {} ms ({} processes in it)",
                                    dir, timeoutMillis, readProcs(dir).size()));
        }
        killProcs(dir);
        // A short pause lets the kernel finish the exits of the processes just killed.
        constexpr auto kRetryPause = std::chrono::milliseconds(10);
        std::this_thread::sleep_for(kRetryPause);
    }
    // END SOLUTION
}

std::unique_ptr<Cgroup> cgroupFor(Mode mode, const std::string& id, const std::string& root,
                                  const ControllerMounts& mounts) {
    if (mode == Mode::unified) return std::make_unique<V2Cgroup>(root, containerPath(id));
    // Hybrid hosts keep every controller in the v1 hierarchies; the v2 one at
    // <root>/unified has none to offer. For a runtime, hybrid is v1.
    return std::make_unique<V1Cgroup>(mounts, containerPath(id));
}

std::unique_ptr<Cgroup> createForContainer(const std::string& id, const ResourceLimits& limits) {
    const Mode mode = hostMode();
    log::debug("cgroup mode: {}", modeName(mode));
    auto cgroup = cgroupFor(mode, id, kDefaultRoot,
                            mode == Mode::unified ? ControllerMounts{} : hostV1Mounts());
    // Another container's destroy() may remove mydocker/ between our mkdir of it and of
    // mydocker/<id> (ENOENT). create() undoes itself on failure, so simply try again.
    constexpr int kCreateAttempts = 3;
    for (int attempt = 1;; ++attempt) {
        try {
            cgroup->create();
            break;
        } catch (const SysError& e) {
            if (e.code() != ENOENT || attempt == kCreateAttempts) throw;
        }
    }
    // Limits go in before any process does: nothing runs unlimited, not even briefly.
    ScopeGuard removeCgroup([&] { cgroup->destroy(); });
    cgroup->applyLimits(limits);
    removeCgroup.dismiss();
    return cgroup;
}

}  // namespace mydocker::cgroups
