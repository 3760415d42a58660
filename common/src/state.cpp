#include "mydocker/state.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/random.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <nlohmann/json.hpp>

#include "mydocker/error.hpp"
#include "mydocker/file.hpp"
#include "mydocker/process.hpp"
#include "mydocker/unique_fd.hpp"

namespace mydocker {
namespace {

// ordered_json keeps the keys in the order written: a person reads the file too.
using json = nlohmann::ordered_json;

/// JSON key of the format version.
constexpr const char* kVersionKey = "version";

}  // namespace

std::string containerDir(const std::string& root, const std::string& id) {
    return joinPath(joinPath(root, "containers"), id);
}

std::string statePath(const std::string& root, const std::string& id) {
    return joinPath(containerDir(root, id), "state.json");
}

namespace {

json volumesToJson(const std::vector<VolumeRecord>& volumes) {
    json list = json::array();
    for (const VolumeRecord& v : volumes) {
        list.push_back({{"name", v.name},
                        {"source", v.source},
                        {"target", v.target},
                        {"readOnly", v.readOnly}});
    }
    return list;
}

std::vector<VolumeRecord> volumesFromJson(const json& list) {
    std::vector<VolumeRecord> volumes;
    for (const json& entry : list) {
        VolumeRecord v;
        entry.at("name").get_to(v.name);
        entry.at("source").get_to(v.source);
        entry.at("target").get_to(v.target);
        entry.at("readOnly").get_to(v.readOnly);
        volumes.push_back(std::move(v));
    }
    return volumes;
}

}  // namespace

std::string toJson(const ContainerState& s) {
    const json document = {
        {kVersionKey, kStateVersion},
        {"id", s.id},
        {"hostname", s.hostname},
        {"rootfs", s.rootfs},
        {"image", s.image},
        {"command", s.command},
        {"status", s.status},
        {"pid", s.pid},
        {"pidStartTime", s.pidStartTime},
        {"monitorPid", s.monitorPid},
        {"monitorStartTime", s.monitorStartTime},
        {"exitCode", s.exitCode},
        {"oomKilled", s.oomKilled},
        {"createdAt", s.createdAt},
        {"startedAt", s.startedAt},
        {"finishedAt", s.finishedAt},
        {"mountPoints", s.mountPoints},
        {"volumes", volumesToJson(s.volumes)},
        {"name", s.name},
        {"env", s.env},
        {"workingDir", s.workingDir},
        {"detached", s.detached},
        {"autoRemove", s.autoRemove},
        {"memoryBytes", s.memoryBytes},
        {"nanoCpus", s.nanoCpus},
        {"network", s.network},
        {"ipAddress", s.ipAddress},
        {"gateway", s.gateway},
        {"ports", s.ports},
    };
    return document.dump(2) + "\n";
}

ContainerState fromJson(const std::string& text, const std::string& where) {
    try {
        const json document = json::parse(text);
        const int version = document.at(kVersionKey).get<int>();
        if (version != kStateVersion) {
            throw Error(
                fmt::format("corrupt state file {} (format version {}, this runtime reads {})",
                            where, version, kStateVersion));
        }
        ContainerState s;
        document.at("id").get_to(s.id);
        document.at("hostname").get_to(s.hostname);
        document.at("rootfs").get_to(s.rootfs);
        document.at("image").get_to(s.image);
        document.at("command").get_to(s.command);
        document.at("status").get_to(s.status);
        document.at("pid").get_to(s.pid);
        document.at("pidStartTime").get_to(s.pidStartTime);
        document.at("monitorPid").get_to(s.monitorPid);
        document.at("monitorStartTime").get_to(s.monitorStartTime);
        document.at("exitCode").get_to(s.exitCode);
        document.at("oomKilled").get_to(s.oomKilled);
        document.at("createdAt").get_to(s.createdAt);
        document.at("startedAt").get_to(s.startedAt);
        document.at("finishedAt").get_to(s.finishedAt);
        // Recorded from lab 08 on: a record without it has none.
        if (document.contains("mountPoints")) document.at("mountPoints").get_to(s.mountPoints);
        // Optional: a record written before lab 09 has no volumes.
        if (document.contains("volumes")) s.volumes = volumesFromJson(document.at("volumes"));
        // Lab 10's fields: optional, so that a record of an earlier lab still reads.
        s.name = document.value("name", s.name);
        s.env = document.value("env", s.env);
        s.workingDir = document.value("workingDir", s.workingDir);
        s.detached = document.value("detached", s.detached);
        s.autoRemove = document.value("autoRemove", s.autoRemove);
        s.memoryBytes = document.value("memoryBytes", s.memoryBytes);
        s.nanoCpus = document.value("nanoCpus", s.nanoCpus);
        s.network = document.value("network", s.network);
        s.ipAddress = document.value("ipAddress", s.ipAddress);
        s.gateway = document.value("gateway", s.gateway);
        s.ports = document.value("ports", s.ports);
        return s;
    } catch (const json::exception& e) {
        // nlohmann's messages start with "[json.exception.parse_error.101] ...": keep the why.
        std::string why = e.what();
        if (const auto bracket = why.find("] "); bracket != std::string::npos) {
            why = why.substr(bracket + 2);
        }
        throw Error(fmt::format("corrupt state file {} ({})", where, why));
    }
}

void saveState(const std::string& root, const ContainerState& state) {
    writeFileAtomic(statePath(root, state.id), toJson(state));
}

ContainerState loadState(const std::string& root, const std::string& id) {
    const std::string path = statePath(root, id);
    return fromJson(readFile(path), path);
}

namespace {

/// The index of live containers.
std::string liveDir(const std::string& root) {
    return joinPath(root, "live");
}

/// rmdir(2) of a directory that other containers may still be using: fine if not empty.
void removeDirIfEmpty(const std::string& dir) {
    if (::rmdir(dir.c_str()) != 0 && errno != ENOTEMPTY && errno != EEXIST && errno != ENOENT) {
        throw SysError("rmdir", dir);
    }
}

}  // namespace

void markLive(const std::string& root, const std::string& id) {
    makeDirs(liveDir(root), 0700);
    const std::string path = joinPath(liveDir(root), id);
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd) throw SysError("open", path);
}

void unmarkLive(const std::string& root, const std::string& id) {
    const std::string path = joinPath(liveDir(root), id);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) throw SysError("unlink", path);
    removeDirIfEmpty(liveDir(root));
}

std::vector<std::string> liveContainers(const std::string& root) {
    if (!isDirectory(liveDir(root))) return {};
    return listDir(liveDir(root));
}

void removeRecord(const std::string& root, const std::string& id) {
    removeAll(containerDir(root, id));
    removeDirIfEmpty(joinPath(root, "containers"));
}

bool processIsAlive(pid_t pid, std::uint64_t startTime) {
    if (pid <= 0) return false;
    try {
        return processStartTime(pid) == startTime;
    } catch (const Error&) {
        return false;  // no /proc/PID: it is gone
    }
}

std::string nowRfc3339() {
    timespec now{};
    ::clock_gettime(CLOCK_REALTIME, &now);
    std::tm utc{};
    ::gmtime_r(&now.tv_sec, &utc);
    char seconds[32];
    std::strftime(seconds, sizeof seconds, "%Y-%m-%dT%H:%M:%S", &utc);
    return fmt::format("{}.{:09}Z", seconds, now.tv_nsec);
}

std::string newContainerId() {
    unsigned char bytes[32];
    if (::getrandom(bytes, sizeof bytes, 0) != static_cast<ssize_t>(sizeof bytes)) {
        throw SysError("getrandom");
    }
    std::string id;
    for (const unsigned char b : bytes) id += fmt::format("{:02x}", b);
    return id;
}

}  // namespace mydocker
