#include "mydocker/state.hpp"

#include <sys/random.h>

#include <ctime>

#include <fmt/format.h>

#include "mydocker/error.hpp"
#include "mydocker/file.hpp"

namespace mydocker {
namespace {

// A JSON string literal: quotes, backslashes and control characters escaped.
std::string quote(std::string_view text) {
    std::string out = "\"";
    for (const char c : text) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\t': out += "\\t"; break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) {
                    out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
                } else {
                    out += c;
                }
        }
    }
    return out + "\"";
}

}  // namespace

std::string containerDir(const std::string& root, const std::string& id) {
    return joinPath(joinPath(root, "containers"), id);
}

std::string toJson(const ContainerState& s) {
    std::string command;
    for (const auto& arg : s.command) {
        if (!command.empty()) command += ", ";
        command += quote(arg);
    }
    return fmt::format(
        "{{\n  \"id\": {},\n  \"hostname\": {},\n  \"rootfs\": {},\n  \"command\": [{}],\n"
        "  \"status\": {},\n  \"pid\": {},\n  \"exit_code\": {},\n  \"oom_killed\": {},\n"
        "  \"created\": {}\n}}\n",
        quote(s.id), quote(s.hostname), quote(s.rootfs), command, quote(s.status), s.pid,
        s.exitCode, s.oomKilled ? "true" : "false", quote(s.createdAt));
}

void saveState(const std::string& root, const ContainerState& state) {
    writeFileAtomic(joinPath(containerDir(root, state.id), "state.json"), toJson(state));
}

std::string nowRfc3339() {
    const std::time_t now = std::time(nullptr);
    std::tm utc{};
    ::gmtime_r(&now, &utc);
    char buffer[32];
    std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return buffer;
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
