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

/// rm -rf that cannot reach past the tree it was given: removes `path` and everything
/// below it, never following a symlink (a link is removed, not what it points to) and
/// never entering another mount. A missing `path` is not an error.
///
/// A tree with anything mounted at or below it (a volume, an image's overlay, a leaked
/// bind mount of the host's files) is refused before anything is removed: the mount
/// table (/proc/self/mountinfo) is checked first, and every directory is checked again
/// as the walk enters it (a mount root, or another device, is never entered). The walk
/// goes through directory fds (openat(2) with O_NOFOLLOW, unlinkat(2)), never through
/// paths, so a directory swapped for a symlink meanwhile cannot redirect it.
/// @throws Error naming the mount point when something is mounted at or below `path`;
///         SysError when a removal fails (e.g. EMFILE for a tree deeper than the open
///         file limit: what was not reached is left in place)
void removeAll(const std::string& path);

/// The names in a directory, without "." and "..", sorted.
std::vector<std::string> listDir(const std::string& path);

/// Joins two path pieces with exactly one '/'.
std::string joinPath(std::string_view a, std::string_view b);

}  // namespace mydocker
