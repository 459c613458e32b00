#include "base/split_arg.h"

#include <gtest/gtest.h>

namespace nsbuild::base {
namespace {

TEST(SplitUnescaped, PlainForms) {
  auto [a, b] = SplitUnescaped("/src:/dst", ':');
  EXPECT_EQ(a, "/src");
  EXPECT_EQ(b, "/dst");
  auto [c, d] = SplitUnescaped("/src", ':');
  EXPECT_EQ(c, "/src");
  EXPECT_FALSE(d);
}

TEST(SplitUnescaped, EscapedSeparatorsAndBackslashes) {
  auto [a, b] = SplitUnescaped("/a\\:b:/in\\:side", ':');
  EXPECT_EQ(a, "/a:b");
  EXPECT_EQ(b, "/in:side");
  auto [c, d] = SplitUnescaped("/only\\:colon", ':');
  EXPECT_EQ(c, "/only:colon");
  EXPECT_FALSE(d);
  // `\\:` is a backslash, then the separator.
  auto [e, f] = SplitUnescaped("/x\\\\:/y", ':');
  EXPECT_EQ(e, "/x\\");
  EXPECT_EQ(f, "/y");
  // Other backslashes are kept.
  auto [g, h] = SplitUnescaped("/a\\b", ':');
  EXPECT_EQ(g, "/a\\b");
  EXPECT_FALSE(h);
}

}  // namespace
}  // namespace nsbuild::base
