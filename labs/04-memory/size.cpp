// Lab 04: -m/--memory SIZE, parsed as Docker does: digits and a unit, at least 6m.
#include <cctype>
#include <charconv>
#include <limits>

#include <fmt/format.h>

#include "mydocker/error.hpp"
#include "mydocker/memory.hpp"

namespace mydocker::memory {

std::uint64_t parseSize(std::string_view text, std::string_view what) {
    // Hints:
    // - The digits, then at most one unit letter: "64m", "1024k", "100000000".
    // - Both overflows: of the digits themselves (ERANGE), and of count * unit.
    todo("TODO (lab 04): parse a size: digits and a unit b, k, m or g", text, what);
}

std::uint64_t parseMemorySize(std::string_view text) {
    // Hint: Below a few MiB a container cannot even start (and Docker refuses it too).
    todo("TODO (lab 04): parse --memory: a size of at least 6m", text);
}

}  // namespace mydocker::memory
