// base/escape.h: what a sandbox prints reaches the terminal as text only.
#include "base/escape.h"

#include <gtest/gtest.h>

#include "sandbox/write_watch.h"

namespace nsbuild::base {
namespace {

TEST(Escape, ControlCharactersBecomeVisibleText) {
  EXPECT_EQ(EscapeLine("a\x1b[2Jb"), "a\\x1b[2Jb");                 // CSI: clear screen
  EXPECT_EQ(EscapeLine("\x1b]0;pwned\x07"), "\\x1b]0;pwned\\x07");  // OSC window title, BEL
  EXPECT_EQ(EscapeLine("\x1b]52;c;ZXZpbA==\x1b\\"),
            "\\x1b]52;c;ZXZpbA==\\x1b\\");  // OSC 52 clipboard
  EXPECT_EQ(EscapeLine(std::string("nul\0x", 5)), "nul\\x00x");
  EXPECT_EQ(EscapeLine("del\x7f"), "del\\x7f");
  EXPECT_EQ(EscapeLine("back\bspace\rreturn"), "back\\x08space\\rreturn");
}

TEST(Escape, ALineCannotForgeAnotherLine) {
  EXPECT_EQ(EscapeLine("/usr/x\nnsbuild: all good\tok"), "/usr/x\\nnsbuild: all good\\tok");
  // Text keeps its lines and tabs, but not a carriage return that would
  // overwrite the line it is on.
  EXPECT_EQ(EscapeText("one\n\ttwo\rthree\n"), "one\n\ttwo\\rthree\n");
}

TEST(Escape, C1ControlsAreEscapedAsCodePoints) {
  EXPECT_EQ(EscapeLine("\xc2\x9b"
                       "31m"),
            "\\u{009b}31m");  // 8-bit CSI
  EXPECT_EQ(EscapeLine("\xc2\x9d"
                       "52;c;x\xc2\x9c"),
            "\\u{009d}52;c;x\\u{009c}");  // 8-bit OSC, ST
  EXPECT_EQ(EscapeLine("\xc2\x80\xc2\x9f"), "\\u{0080}\\u{009f}");
}

TEST(Escape, InvalidUtf8IsEscapedBytewise) {
  EXPECT_EQ(EscapeLine("\x9b"
                       "31m"),
            "\\x9b31m");  // a raw C1 byte, as some terminals read it
  EXPECT_EQ(EscapeLine("\xff\xfe"), "\\xff\\xfe");
  EXPECT_EQ(EscapeLine("a\xc3"), "a\\xc3");  // truncated sequence
  EXPECT_EQ(EscapeLine("\xe2\x82"
                       "x"),
            "\\xe2\\x82x");                                           // truncated in the middle
  EXPECT_EQ(EscapeLine("\xed\xa0\x80"), "\\xed\\xa0\\x80");           // a UTF-16 surrogate
  EXPECT_EQ(EscapeLine("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");  // above U+10FFFF
}

TEST(Escape, OverlongEncodingsAreNotDecoded) {
  // ESC and '/' spelt with more bytes than needed must not turn into them.
  EXPECT_EQ(EscapeLine("\xc0\x9b"), "\\xc0\\x9b");
  EXPECT_EQ(EscapeLine("\xc0\xaf"), "\\xc0\\xaf");
  EXPECT_EQ(EscapeLine("\xe0\x80\x9b"), "\\xe0\\x80\\x9b");
  EXPECT_EQ(EscapeLine("\xf0\x80\x80\x9b"), "\\xf0\\x80\\x80\\x9b");
}

TEST(Escape, ValidTextIsKeptAsItIs) {
  EXPECT_EQ(EscapeLine("/usr/lib/python3/dist-packages/easy-install.pth"),
            "/usr/lib/python3/dist-packages/easy-install.pth");
  EXPECT_EQ(EscapeLine("caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x93\xa6"),
            "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x93\xa6");  // é, 日本, a 4-byte emoji
  EXPECT_EQ(EscapeLine("\xc2\xa0nbsp"), "\xc2\xa0nbsp");  // U+00A0 is past the C1 range
  EXPECT_EQ(EscapeLine(""), "");
}

TEST(Escape, BidiOverridesAndSeparatorsAreEscaped) {
  EXPECT_EQ(EscapeLine("a\xe2\x80\xae"
                       "b"),
            "a\\u{202e}b");  // RIGHT-TO-LEFT OVERRIDE
  EXPECT_EQ(EscapeLine("a\xe2\x80\xa8"
                       "b"),
            "a\\u{2028}b");                              // LINE SEPARATOR
  EXPECT_EQ(EscapeLine("\xe2\x81\xa6x"), "\\u{2066}x");  // LEFT-TO-RIGHT ISOLATE
}

}  // namespace
}  // namespace nsbuild::base

namespace nsbuild::sandbox {
namespace {

// The watcher's summary: one line per field whatever the sandbox put in it,
// and what was not kept said in numbers.
TEST(FormatViolations, EscapesPathsAndCommandLinesAndCountsWhatWasNotKept) {
  std::vector<WriteViolation> v = {{"open", "/usr/lib/x\x1b]0;t\x07\nnsbuild: forged", 7,
                                    "sh -c \x9b"
                                    "2J",
                                    false}};
  std::string out = FormatViolations(v, "heading", 12);
  EXPECT_NE(out.find("/usr/lib/x\\x1b]0;t\\x07\\nnsbuild: forged\n"), std::string::npos) << out;
  EXPECT_NE(out.find("by pid 7: sh -c \\x9b2J\n"), std::string::npos) << out;
  EXPECT_NE(out.find("  ... 12 more not kept\n"), std::string::npos) << out;
  EXPECT_EQ(out.find('\x1b'), std::string::npos);
  // Only dropped records still make a summary; none at all make none.
  EXPECT_NE(FormatViolations({}, "heading", 3).find("... 3 more not kept"), std::string::npos);
  EXPECT_EQ(FormatViolations({}, "heading", 0), "");
}

TEST(Clip, CutsAndMarks) {
  EXPECT_EQ(Clip("abcdef", 10), "abcdef");
  EXPECT_EQ(Clip("abcdefghij", 6), "abc...");
}

}  // namespace
}  // namespace nsbuild::sandbox
