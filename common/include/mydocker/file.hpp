/// @file
/// @brief Small file helpers. Every one checks its syscalls and throws SysError.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mydocker {

/// Reads a whole file. Throws SysError (e.g. ENOENT).
std::string readFile(const std::string& path);

/// Reads a file and strips the trailing newline (for one-value kernel files).
std::string readLine(const std::string& path);

/// Writes `content` to an existing file, as `echo -n content > path` would.
/// This is how cgroup and /proc knobs are set: one write(2), its errno reported.
void writeFile(const std::string& path, std::string_view content);

/// Creates or replaces `path` with `content`, atomically (a temporary file, then rename).
void writeFileAtomic(const std::string& path, std::string_view content);

/// True when `path` exists (without following a final symlink).
bool pathExists(const std::string& path);

/// True when `path` is a directory (following symlinks).
bool isDirectory(const std::string& path);

/// mkdir -p with `mode` for the directories it creates.
void makeDirs(const std::string& path, unsigned mode = 0755);

/// rm -rf: removes `path` and everything below it, not crossing mount points.
void removeAll(const std::string& path);

/// The names in a directory, without "." and "..", sorted.
std::vector<std::string> listDir(const std::string& path);

/// Joins two path pieces with exactly one '/'.
std::string joinPath(std::string_view a, std::string_view b);

}  // namespace mydocker
