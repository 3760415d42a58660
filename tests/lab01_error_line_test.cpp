// How an error line shows what the user typed (common/: quoted() and printable(), which
// log::write() applies to every line): in quotes, control characters escaped, a long
// value cut, so that one error is always one readable line whatever the input.
//
// Not graded: given code, used by every lab's error messages.
#include <gtest/gtest.h>

#include <string>

#include "mydocker/error.hpp"

namespace mydocker::test {
namespace {

TEST(Lab01ErrorLine, PlainValuesAreQuotedAsTheyAre) {
    EXPECT_EQ(quoted("myhost"), "\"myhost\"");
    EXPECT_EQ(quoted(""), "\"\"");
    EXPECT_EQ(quoted("/var/tmp/rootfs"), "\"/var/tmp/rootfs\"");
    EXPECT_EQ(quoted("h\xc3\xa9llo"), "\"h\xc3\xa9llo\"") << "UTF-8 is kept readable";
}

TEST(Lab01ErrorLine, ControlCharactersQuotesAndBackslashesAreEscaped) {
    EXPECT_EQ(quoted("a\nb"), "\"a\\nb\"");
    EXPECT_EQ(quoted("a\tb\r"), "\"a\\tb\\r\"");
    EXPECT_EQ(quoted("\x1b[31mred"), "\"\\x1b[31mred\"");
    EXPECT_EQ(quoted(std::string("nul\0byte", 8)), "\"nul\\x00byte\"");
    EXPECT_EQ(quoted("del\x7f"), "\"del\\x7f\"");
    EXPECT_EQ(quoted("say \"hi\"\\"), "\"say \\\"hi\\\"\\\\\"");
    // Bytes that are not UTF-8, and code points that act as controls (CSI in C1, the
    // bidirectional override, the line separator).
    EXPECT_EQ(quoted("\xff\xfe"), "\"\\xff\\xfe\"");
    EXPECT_EQ(quoted("\xc2\x9b"), "\"\\u009b\"");
    EXPECT_EQ(quoted("\xe2\x80\xae"), "\"\\u202e\"");
    EXPECT_EQ(quoted("\xe2\x80\xa8"), "\"\\u2028\"");
}

TEST(Lab01ErrorLine, LongValuesAreCutWithTheirLength) {
    EXPECT_EQ(quoted(std::string(kMaxQuotedLength, 'a')),
              "\"" + std::string(kMaxQuotedLength, 'a') + "\"");
    const std::string line = quoted(std::string(100000, 'a'));
    EXPECT_LT(line.size(), 2 * kMaxQuotedLength) << line;
    EXPECT_NE(line.find("..."), std::string::npos) << line;
    EXPECT_NE(line.find("100000 bytes"), std::string::npos) << line;
    // A cut never splits a UTF-8 character in two.
    std::string accents;
    for (int i = 0; i < 100; ++i) accents += "\xc3\xa9";
    EXPECT_EQ(quoted(accents).find("\\x"), std::string::npos) << quoted(accents);
}

TEST(Lab01ErrorLine, PrintableKeepsQuotesButNoLineBreak) {
    EXPECT_EQ(printable("invalid \"x\" (a\\b)"), "invalid \"x\" (a\\b)");
    EXPECT_EQ(printable("two\nlines"), "two\\nlines");
    EXPECT_EQ(printable("\x1b]0;title\x07"), "\\x1b]0;title\\x07");
}

}  // namespace
}  // namespace mydocker::test
