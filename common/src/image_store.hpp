// What image_store.cpp and image_import.cpp share, and nothing else sees.
#pragma once

#include <string>

namespace mydocker::image::detail {

/// `<root>/tmp`: imports in progress, layers being removed.
std::string tmpDir(const std::string& root);

/// Removes what killed imports and removals left in `<root>/tmp` (an import's directory
/// is flock(2)ed by its process while it lives). Call with the StoreLock held.
void sweepTemporaries(const std::string& root);

/// Removes every layer that no image names. Call with the StoreLock held.
/// @throws Error (and removes nothing) if an image record cannot be read
void collectUnusedLayers(const std::string& root);

/// rmdir(2) `dir` if it is empty; a directory that is not, or is gone, is fine.
/// @throws SysError otherwise
void removeDirIfEmpty(const std::string& dir);

}  // namespace mydocker::image::detail
