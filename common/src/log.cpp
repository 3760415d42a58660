#include "mydocker/log.hpp"

#include <unistd.h>

#include <string>

#include "mydocker/error.hpp"

namespace mydocker::log {
namespace {

Level g_level = Level::warn;
std::string g_program = "mydocker";

std::string_view levelName(Level level) {
    switch (level) {
        case Level::debug: return "debug";
        case Level::info: return "info";
        case Level::warn: return "warning";
        case Level::error: return "error";
    }
    return "?";
}

}  // namespace

void setLevel(Level level) { g_level = level; }

Level parseLevel(std::string_view name) {
    if (name == "debug") return Level::debug;
    if (name == "info") return Level::info;
    if (name == "warn" || name == "warning") return Level::warn;
    if (name == "error") return Level::error;
    throw UsageError(
        fmt::format("invalid log level {} (use debug, info, warn or error)", quoted(name)));
}

void setProgram(std::string_view name) { g_program = name; }

std::string_view program() { return g_program; }

bool enabled(Level level) { return level >= g_level; }

void write(Level level, std::string_view message) {
    if (!enabled(level)) return;
    // One message, one line: a control character left in it (a newline in a value that
    // was not quoted(), an escape sequence) is escaped, never passed to the terminal.
    // One write(2) per line, so lines from the parent and the child never interleave.
    const std::string line =
        fmt::format("{}: {}: {}\n", g_program, levelName(level), printable(message));
    [[maybe_unused]] const ssize_t n = ::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace mydocker::log
