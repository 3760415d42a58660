/// @file
/// @brief Logging to stderr, filtered by `--log-level`.
#pragma once

#include <fmt/format.h>

#include <string_view>

namespace mydocker::log {

/// The levels of `--log-level`, least severe first.
enum class Level { debug, info, warn, error };

/// Sets the lowest level printed (default: warn).
void setLevel(Level level);

/// Parses "debug", "info", "warn" or "error". Throws UsageError otherwise.
Level parseLevel(std::string_view name);

/// Sets the program name printed before every line ("lab03").
void setProgram(std::string_view name);

/// The program name set by setProgram.
std::string_view program();

/// True when messages of `level` are printed.
bool enabled(Level level);

/// Prints one line `lab03: <level>: <message>` to stderr if `level` is enabled. Always one
/// line: control characters in `message` are escaped (mydocker::printable()).
void write(Level level, std::string_view message);

/// Logs at debug level.
template <class... Args>
void debug(fmt::format_string<Args...> format, Args&&... args) {
    if (enabled(Level::debug)) write(Level::debug, fmt::format(format, std::forward<Args>(args)...));
}
/// Logs at info level.
template <class... Args>
void info(fmt::format_string<Args...> format, Args&&... args) {
    if (enabled(Level::info)) write(Level::info, fmt::format(format, std::forward<Args>(args)...));
}
/// Logs at warn level.
template <class... Args>
void warn(fmt::format_string<Args...> format, Args&&... args) {
    if (enabled(Level::warn)) write(Level::warn, fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace mydocker::log
