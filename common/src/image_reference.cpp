// Image names (Docker's reference grammar, without registries) and the human-readable
// sizes and ages `images` prints.
#include <fmt/format.h>

#include <array>
#include <cctype>
#include <chrono>
#include <ctime>

#include "mydocker/error.hpp"
#include "mydocker/image.hpp"

namespace mydocker::image {
namespace {

/// Docker's tag: at most 128 characters.
constexpr std::size_t kMaxTagLength = 128;
/// `<repository>:<tag>.json` must fit in a file name (255 bytes, with ":" and ".json").
constexpr std::size_t kMaxRepositoryLength = 120;

UsageError invalid(std::string_view name, std::string_view why) {
    return UsageError(fmt::format("invalid image name {} ({})", quoted(name), why));
}

bool isLowerAlnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/// Docker's repository path component, `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
/// (github.com/distribution/reference, regexp.go): lower-case letters and digits, joined
/// by one '.', one '_', two '_', or any number of '-'. (By hand: a std::regex costs every
/// start of the runtime milliseconds to build.)
bool isRepository(std::string_view text) {
    std::size_t i = 0;
    while (i < text.size()) {
        if (!isLowerAlnum(text[i])) return false;  // a run of letters and digits...
        while (i < text.size() && isLowerAlnum(text[i])) ++i;
        if (i == text.size()) return true;
        const std::size_t start = i;  // ...then a separator, then another run
        while (i < text.size() && !isLowerAlnum(text[i])) ++i;
        const std::string_view separator = text.substr(start, i - start);
        const bool dashes = separator.find_first_not_of('-') == std::string_view::npos;
        if (!(separator == "." || separator == "_" || separator == "__" || dashes)) return false;
        if (i == text.size()) return false;  // a separator may not end it
    }
    return !text.empty();
}

/// Docker's tag, `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
bool isTag(std::string_view text) {
    if (text.empty() || text.size() > kMaxTagLength || text.front() == '.' || text.front() == '-') {
        return false;
    }
    for (const char c : text) {
        const bool word = std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
        if (!(word || c == '.' || c == '-')) return false;
    }
    return true;
}

bool hasUpperCase(std::string_view text) {
    for (const char c : text) {
        if (std::isupper(static_cast<unsigned char>(c)) != 0) return true;
    }
    return false;
}

}  // namespace

std::string Reference::str() const {
    return repository + ":" + tag;
}

Reference parseReference(std::string_view name) {
    if (name.empty()) throw invalid(name, "it is empty");
    if (name.find('@') != std::string_view::npos) {
        throw invalid(name, "digests are not supported: name an image by REPOSITORY[:TAG]");
    }
    if (name.find('/') != std::string_view::npos) {
        throw invalid(name, "'/' is not allowed: this store has no registries or namespaces");
    }
    Reference reference;
    const auto colon = name.rfind(':');
    reference.repository = std::string(name.substr(0, colon));
    if (colon != std::string_view::npos) reference.tag = std::string(name.substr(colon + 1));

    if (reference.repository.empty()) throw invalid(name, "the repository is empty");
    if (hasUpperCase(reference.repository))
        throw invalid(name, "repository names must be lowercase");
    if (reference.repository.size() > kMaxRepositoryLength) {
        throw invalid(name,
                      fmt::format("a repository has at most {} characters", kMaxRepositoryLength));
    }
    if (!isRepository(reference.repository)) {
        throw invalid(name,
                      "a repository is lower-case letters and digits, separated by '.', '_', "
                      "'__' or '-'");
    }
    if (!isTag(reference.tag)) {
        throw invalid(name,
                      "a tag is up to 128 letters, digits, '_', '.' or '-', not starting with "
                      "'.' or '-'");
    }
    return reference;
}

std::string humanSize(std::uint64_t bytes) {
    // docker's units.HumanSizeWithPrecision(size, 3): decimal units, 3 significant digits.
    static constexpr std::array<const char*, 7> kUnits = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
    double size = static_cast<double>(bytes);
    std::size_t unit = 0;
    // 999.5 would print as "1e+03" with 3 digits: it is already the next unit.
    while (size >= 999.5 && unit + 1 < kUnits.size()) {
        size /= 1000.0;
        ++unit;
    }
    return fmt::format("{:.3g}{}", size, kUnits[unit]);
}

std::string humanAge(const std::string& created) {
    std::tm utc{};
    const char* end = ::strptime(created.c_str(), "%Y-%m-%dT%H:%M:%S", &utc);
    if (end == nullptr) return "N/A";
    const std::time_t then = ::timegm(&utc);
    const auto seconds = static_cast<long long>(std::difftime(std::time(nullptr), then));
    // docker's units.HumanDuration, then " ago".
    constexpr long long kMinute = 60, kHour = 60 * kMinute, kDay = 24 * kHour;
    constexpr long long kWeek = 7 * kDay, kMonth = 30 * kDay, kYear = 365 * kDay;
    std::string age;
    if (seconds < 1) {
        age = "Less than a second";
    } else if (seconds == 1) {
        age = "1 second";
    } else if (seconds < kMinute) {
        age = fmt::format("{} seconds", seconds);
    } else if (seconds / kMinute == 1) {
        age = "About a minute";
    } else if (seconds < kHour) {
        age = fmt::format("{} minutes", seconds / kMinute);
    } else if (seconds / kHour == 1) {
        age = "About an hour";
    } else if (seconds < 2 * kDay) {
        age = fmt::format("{} hours", seconds / kHour);
    } else if (seconds < 2 * kWeek) {
        age = fmt::format("{} days", seconds / kDay);
    } else if (seconds < 2 * kMonth) {
        age = fmt::format("{} weeks", seconds / kWeek);
    } else if (seconds < 2 * kYear) {
        age = fmt::format("{} months", seconds / kMonth);
    } else {
        age = fmt::format("{} years", seconds / kYear);
    }
    return age + " ago";
}

}  // namespace mydocker::image
