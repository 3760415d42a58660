#include "mydocker/error.hpp"

#include <cerrno>
#include <cstdint>
#include <cstring>

#include <fmt/format.h>

namespace mydocker {

Error& Error::addContext(std::string context) {
    context_.push_back(std::move(context));
    rebuild();
    return *this;
}

void Error::rebuild() {
    line_.clear();
    // Outermost context first: the last one added was added furthest up the stack.
    for (auto it = context_.rbegin(); it != context_.rend(); ++it) {
        line_ += *it;
        line_ += ": ";
    }
    line_ += message_;
}

namespace {

std::string describeSysError(int err, std::string_view call, std::string_view arg) {
    const std::string where =
        arg.empty() ? std::string(call) : fmt::format("{}({})", call, arg);
    return fmt::format("{}: {} ({})", where, std::strerror(err), errnoName(err));
}

}  // namespace

SysError::SysError(std::string_view call, std::string_view arg) : SysError(errno, call, arg) {}

SysError::SysError(int err, std::string_view call, std::string_view arg)
    : Error(describeSysError(err, call, arg)), errno_(err) {}

std::string errnoName(int err) {
    // strerrorname_np(3) exists from glibc 2.32 (Debian 12 has 2.36).
    if (const char* name = strerrorname_np(err)) return name;
    return fmt::format("errno {}", err);
}

namespace {

/// How much of a long value quoted() keeps before and after the `...`.
constexpr std::size_t kQuotedHead = 48;
constexpr std::size_t kQuotedTail = 12;

bool isContinuationByte(unsigned char c) { return (c & 0xC0U) == 0x80U; }

/// The length of the well-formed UTF-8 sequence at the start of `text` (RFC 3629: no
/// overlong forms, no surrogates, nothing past U+10FFFF), or 0 if there is none.
std::size_t utf8SequenceLength(std::string_view text) {
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
    const unsigned char lead = byte(0);
    std::size_t length = 0;
    unsigned char low = 0x80;  // the range of the second byte, narrowed for some leads
    unsigned char high = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
        if (lead == 0xE0) low = 0xA0;   // overlong below
        if (lead == 0xED) high = 0x9F;  // UTF-16 surrogates above
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
        if (lead == 0xF0) low = 0x90;   // overlong below
        if (lead == 0xF4) high = 0x8F;  // past U+10FFFF above
    } else {
        return 0;
    }
    if (text.size() < length || byte(1) < low || byte(1) > high) return 0;
    for (std::size_t i = 2; i < length; ++i) {
        if (!isContinuationByte(byte(i))) return 0;
    }
    return length;
}

/// The code point of a well-formed UTF-8 sequence of `length` bytes.
char32_t decodeUtf8(std::string_view sequence, std::size_t length) {
    static constexpr unsigned char kLeadBits[] = {0, 0, 0x1F, 0x0F, 0x07};
    char32_t point = static_cast<unsigned char>(sequence[0]) & kLeadBits[length];
    for (std::size_t i = 1; i < length; ++i) {
        point = (point << 6) | (static_cast<unsigned char>(sequence[i]) & 0x3FU);
    }
    return point;
}

/// Code points that are not control characters but still change how a line reads: C1
/// controls (U+0080..U+009F, CSI among them), the line and paragraph separators, and the
/// bidirectional overrides that can make text display in another order than it is.
bool isInvisibleControl(char32_t point) {
    return (point >= 0x80 && point <= 0x9F) || point == 0x2028 || point == 0x2029 ||
           point == 0x200E || point == 0x200F || (point >= 0x202A && point <= 0x202E) ||
           (point >= 0x2066 && point <= 0x2069);
}

/// Appends `text` to `out` with control characters and malformed bytes escaped; with
/// `escapeQuotes`, a backslash and a double quote too (the text goes between quotes).
void appendEscaped(std::string& out, std::string_view text, bool escapeQuotes) {
    for (std::size_t i = 0; i < text.size();) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c >= 0x80) {
            const std::size_t length = utf8SequenceLength(text.substr(i));
            if (length == 0) {
                out += fmt::format("\\x{:02x}", c);
                ++i;
                continue;
            }
            const char32_t point = decodeUtf8(text.substr(i), length);
            if (isInvisibleControl(point)) {
                out += fmt::format("\\u{:04x}", static_cast<std::uint32_t>(point));
            } else {
                out.append(text.substr(i, length));
            }
            i += length;
            continue;
        }
        switch (c) {
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            case '"':
            case '\\':
                if (escapeQuotes) out += '\\';
                out += static_cast<char>(c);
                break;
            default:
                if (c < 0x20 || c == 0x7F) {
                    out += fmt::format("\\x{:02x}", c);
                } else {
                    out += static_cast<char>(c);
                }
        }
        ++i;
    }
}

}  // namespace

std::string quoted(std::string_view value) {
    std::string out = "\"";
    if (value.size() <= kMaxQuotedLength) {
        appendEscaped(out, value, true);
        out += '"';
        return out;
    }
    // Cut between characters, never inside a UTF-8 sequence (a cut one would show as \x..).
    std::size_t headEnd = kQuotedHead;
    while (headEnd > 0 && isContinuationByte(static_cast<unsigned char>(value[headEnd]))) {
        --headEnd;
    }
    std::size_t tailStart = value.size() - kQuotedTail;
    while (tailStart < value.size() &&
           isContinuationByte(static_cast<unsigned char>(value[tailStart]))) {
        ++tailStart;
    }
    appendEscaped(out, value.substr(0, headEnd), true);
    out += "...";
    appendEscaped(out, value.substr(tailStart), true);
    out += fmt::format("\" ({} bytes)", value.size());
    return out;
}

std::string printable(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    appendEscaped(out, text, false);
    return out;
}

}  // namespace mydocker
