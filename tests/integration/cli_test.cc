#include <gtest/gtest.h>

#include "tests/support/harness.h"

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

// Every usage error is one line on stderr, exit 2, naming the command and
// saying what to type instead.
struct UsageCase {
  std::vector<std::string> args;
  std::string expected;  // the whole line
};

TEST(Cli, UsageErrorsSayWhatToTypeInstead) {
  const UsageCase cases[] = {
      {{"biuld", "r.json"},
       "nsbuild: unknown command 'biuld' (did you mean 'build'?); see nsbuild --help"},
      {{"build", "--jbos", "2", "r.json"},
       "nsbuild build: unknown option '--jbos' (did you mean '--jobs'?); see nsbuild build --help"},
      {{"merge", "--dset", "/x", "img"},
       "nsbuild merge: unknown option '--dset' (did you mean '--dest'?); see nsbuild merge --help"},
      {{"build", "-j"},
       "nsbuild build: -j,--jobs needs a value (INT:INT in [1 - 4096]); see nsbuild build --help"},
      {{"build"}, "nsbuild build: the recipe is missing: nsbuild build [OPTIONS] RECIPE"},
      {{"run", "ls", "-la"},
       "nsbuild run: the command and its arguments go after '--': nsbuild run -- ls -la"},
      {{"run", "--ro-bind", "/usr", "ls", "-l"},
       "nsbuild run: the command and its arguments go after '--': nsbuild run --ro-bind /usr -- ls "
       "-l"},
      {{"run", "--bind", "/a", "/b", "--", "true"},
       "nsbuild run: --bind takes one argument, SRC[:DST]; bwrap's '--bind /a /b' is '--bind "
       "/a:/b' here"},
  };
  for (const auto& c : cases) {
    auto r = Nsbuild(c.args);
    EXPECT_EQ(r.status, 2) << c.expected;
    EXPECT_EQ(r.err, c.expected + "\n");
  }
}

}  // namespace
}  // namespace nsbuild::testing
