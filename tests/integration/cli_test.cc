#include <gtest/gtest.h>

#include "tests/integration/harness.h"

namespace nsbuild::testing {
namespace {

TEST(Cli, VersionAndHelp) {
  auto v = Nsbuild({"--version"});
  EXPECT_EQ(v.status, 0);
  EXPECT_NE(v.out.find("nsbuild "), std::string::npos);
  auto h = Nsbuild({"--help"});
  EXPECT_EQ(h.status, 0);
  EXPECT_NE(h.out.find("run"), std::string::npos);
}

TEST(Cli, UnknownCommandIsUsageError) {
  auto r = Nsbuild({"frobnicate"});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("nsbuild:"), std::string::npos);
}

}  // namespace
}  // namespace nsbuild::testing
