// Lab 04: -m/--memory SIZE, parsed as Docker does: digits and a unit, at least 6m.
#include <cctype>
#include <charconv>
#include <limits>

#include <fmt/format.h>

#include "mydocker/error.hpp"
#include "mydocker/memory.hpp"

namespace mydocker::memory {

// BEGIN SOLUTION
namespace {

constexpr std::uint64_t kKibibyte = 1024;
constexpr std::uint64_t kMebibyte = kKibibyte * kKibibyte;

/// The bytes in one `unit` (b, k, m, g, either case: powers of 1024), or 0 if unknown.
std::uint64_t unitBytes(char unit) {
    switch (std::tolower(static_cast<unsigned char>(unit))) {
        case 'b': return 1;
        case 'k': return kKibibyte;
        case 'm': return kMebibyte;
        case 'g': return kMebibyte * kKibibyte;
        default: return 0;
    }
}

}  // namespace
// END SOLUTION

std::uint64_t parseSize(std::string_view text, std::string_view what) {
    // BEGIN SOLUTION: todo("TODO (lab 04): parse a size: digits and a unit b, k, m or g", text, what);
    const auto invalid = [&](std::string_view why) {
        return UsageError(fmt::format("invalid {} {} ({})", what, quoted(text), why));
    };
    // The digits, then at most one unit letter: "64m", "1024k", "100000000".
    std::size_t digits = 0;
    while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
    const std::string_view unit = text.substr(digits);
    const std::uint64_t multiplier = unit.empty() ? 1 : unit.size() == 1 ? unitBytes(unit[0]) : 0;
    if (digits == 0 || multiplier == 0) {
        throw invalid("expected a number of bytes with an optional unit b, k, m or g, e.g. 64m");
    }
    std::uint64_t count = 0;
    const auto [stop, error] = std::from_chars(text.data(), text.data() + digits, count);
    // Both overflows: of the digits themselves (ERANGE), and of count * unit.
    if (error != std::errc() || count > std::numeric_limits<std::uint64_t>::max() / multiplier) {
        throw invalid("too large to count in bytes");
    }
    return count * multiplier;
    // END SOLUTION
}

std::uint64_t parseMemorySize(std::string_view text) {
    // BEGIN SOLUTION: todo("TODO (lab 04): parse --memory: a size of at least 6m", text);
    const std::uint64_t bytes = parseSize(text, "--memory");
    // Below a few MiB a container cannot even start (and Docker refuses it too).
    if (bytes < kMinimumBytes) {
        throw UsageError(fmt::format("invalid --memory {} (the minimum is {}m)", quoted(text),
                                     kMinimumBytes / kMebibyte));
    }
    return bytes;
    // END SOLUTION
}

}  // namespace mydocker::memory
