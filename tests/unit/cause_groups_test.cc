#include "verify/cause_groups.h"

#include <gtest/gtest.h>

namespace nsbuild::verify {
namespace {

TEST(AttributeCauses, NondeterminismAloneWhenTheControlDiffersFromItself) {
  std::map<std::string, std::vector<std::string>> differing = {
      {"py", {"usr/a.pyc", "usr/b.py", "usr/c"}}};
  std::vector<Probe> probes = {
      {kNondeterminism, {{"py", {"usr/a.pyc"}}}},
      {"umask", {{"py", {"usr/a.pyc", "usr/b.py"}}}},
      {"time", {{"py", {"usr/a.pyc", "usr/b.py"}}}},
  };
  Causes c = AttributeCauses(differing, probes);
  EXPECT_EQ(c["py"]["usr/a.pyc"], std::vector<std::string>{kNondeterminism});
  EXPECT_EQ(c["py"]["usr/b.py"], (std::vector<std::string>{"umask", "time"}));
  EXPECT_TRUE(c["py"]["usr/c"].empty());
}

TEST(AttributeCauses, TargetsAreKeptApart) {
  std::map<std::string, std::vector<std::string>> differing = {{"a", {"x"}}, {"b", {"x"}}};
  std::vector<Probe> probes = {{"umask", {{"b", {"x"}}}}};
  Causes c = AttributeCauses(differing, probes);
  EXPECT_TRUE(c["a"]["x"].empty());
  EXPECT_EQ(c["b"]["x"], std::vector<std::string>{"umask"});
}

TEST(GroupByCause, OneGroupPerCauseLargestFirst) {
  std::map<std::string, std::vector<std::string>> causes = {{"p1", {"umask"}},
                                                            {"p2", {"umask"}},
                                                            {"p3", {"umask"}},
                                                            {"p4", {"time", "timezone"}},
                                                            {"p5", {}}};
  auto g = GroupByCause({"p1", "p2", "p3", "p4", "p5"}, causes);
  ASSERT_EQ(g.size(), 3u);
  EXPECT_EQ(g[0].cause, "umask");
  EXPECT_EQ(g[0].paths, (std::vector<std::string>{"p1", "p2", "p3"}));
  // Equal sizes keep the causes' order.
  EXPECT_EQ(g[1].cause, kCombination);
  EXPECT_EQ(g[2].cause, "time, timezone");
}

TEST(CanonicalFactorName, ReprotestAliases) {
  EXPECT_EQ(CanonicalFactorName("domain_host"), "hostname");
  EXPECT_EQ(CanonicalFactorName("umask"), "umask");
}

}  // namespace
}  // namespace nsbuild::verify
