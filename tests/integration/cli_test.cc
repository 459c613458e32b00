#include <gtest/gtest.h>

#include <utility>
#include <vector>

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

// A start defines only the chosen subcommand's options (cli/commands.h):
// the top-level help must still list every subcommand with its line, and
// every subcommand's help (however it is asked for) its own options.
TEST(Cli, HelpListsEverySubcommandWithItsDescription) {
  const std::pair<const char*, const char*> subs[] = {
      {"run", "Run one command in a sandbox"},
      {"doctor", "Check what this kernel and user can do"},
      {"merge", "Check images and merge them crash-safely into a destination"},
      {"check", "Run the merge checks on images, change nothing"},
      {"uninstall", "Remove a merged package (journaled; keeps files changed since install)"},
      {"owner", "Print the package(s) that installed a path"},
      {"verify-installed", "List a package's files changed since install"},
      {"build", "Build a recipe once per implementation, each sub-phase in its own sandbox"},
      {"impls", "List the implementations installed on this host"},
      {"diff", "Compare two images or destinations canonically"},
      {"verify", "Check that a recipe builds reproducibly"},
  };
  for (const auto& args : {std::vector<std::string>{"--help"}, {"-v", "--help"}}) {
    auto h = Nsbuild(args);
    ASSERT_EQ(h.status, 0) << h.err;
    for (const auto& [name, what] : subs) {
      std::string line = "  " + std::string(name) + " ";
      auto at = h.out.find(line);
      ASSERT_NE(at, std::string::npos) << name << " missing from:\n" << h.out;
      std::string rest = h.out.substr(at, h.out.find('\n', at) - at);
      EXPECT_NE(rest.find(what), std::string::npos) << rest;
    }
  }
}

TEST(Cli, EverySubcommandsHelpListsItsOptions) {
  const std::pair<const char*, const char*> options[] = {
      {"run", "--capture-writes"},
      {"doctor", "--policy"},
      {"merge", "--impl-order"},
      {"check", "--policy"},
      {"uninstall", "--dest"},
      {"owner", "--dest"},
      {"verify-installed", "--dest"},
      {"build", "--jobserver-fifo"},
      {"impls", "--json"},
      {"diff", "--brief"},
      {"verify", "--rounds"},
  };
  for (const auto& [sub, option] : options) {
    for (const auto& args :
         {std::vector<std::string>{sub, "--help"}, {"-q", sub, "--help"}, {"--help", sub}}) {
      auto h = Nsbuild(args);
      EXPECT_EQ(h.status, 0) << sub << ": " << h.err;
      EXPECT_NE(h.out.find(option), std::string::npos)
          << "nsbuild " << args[0] << " " << args[1] << "...: no " << option << " in\n"
          << h.out;
    }
  }
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
