#include "builder/recipe.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "builder/plan.h"
#include "tests/unit/recipe_text.h"

namespace nsbuild::builder {
namespace {

constexpr const char* kGood = R"({
  "name": "demo", "version": "1.0", "source": "src",
  "implementations": ["python3.11", "pypy3"],
  "phases": {"configure": "true", "compile": ["make", "echo done"], "install": "make install"},
  "all": {"install": "cp -r docs $D"},
  "wrap": ["usr/bin"], "policy": "strict", "source_date_epoch": 1700000000,
  "timeout": 600, "env": {"CFLAGS": "-O2"},
  "define_implementations": {"lua5.4": {"program": "/usr/bin/lua5.4", "env": {"LUA": "lua5.4"}}}
})";

TEST(Recipe, ParsesEveryKey) {
  auto r = Parse(kGood);
  ASSERT_TRUE(r.ok()) << r.error().Message();
  EXPECT_EQ(r->name, "demo");
  EXPECT_EQ(r->version, "1.0");
  EXPECT_EQ(r->source, "src");  // relative to r->dir, opened beneath it
  EXPECT_EQ(r->dir, "/recipes/x");
  EXPECT_EQ(r->implementations, (std::vector<std::string>{"python3.11", "pypy3"}));
  EXPECT_EQ(r->phases.configure, "true");
  EXPECT_EQ(r->phases.compile, "set -e\nmake\necho done");
  EXPECT_EQ(r->phases.test, "");
  EXPECT_EQ(r->all_phases.install, "cp -r docs $D");
  EXPECT_EQ(r->wrap, std::vector<std::string>{"usr/bin"});
  EXPECT_EQ(r->policy, "strict");
  EXPECT_EQ(r->source_date_epoch, 1700000000);
  EXPECT_EQ(r->timeout_seconds, 600);
  ASSERT_EQ(r->env.size(), 1u);
  EXPECT_EQ(r->env[0].first, "CFLAGS");
  ASSERT_EQ(r->generic_impls.size(), 1u);
  EXPECT_EQ(r->generic_impls[0].name, "lua5.4");
  EXPECT_EQ(r->generic_impls[0].program, "/usr/bin/lua5.4");
}

TEST(Recipe, DefaultsAreDocumentedOnes) {
  auto r = Parse(
      R"({"name": "a", "version": "1", "source": "./sub/../s", "phases": {"compile": "make"}})");
  ASSERT_TRUE(r.ok()) << r.error().Message();
  EXPECT_EQ(r->source, "s");
  EXPECT_EQ(r->policy, "");  // none asked for: the operator's (default)
  EXPECT_FALSE(r->source_date_epoch.has_value());
  EXPECT_TRUE(r->implementations.empty());
  EXPECT_TRUE(r->all_phases.Empty());
}

TEST(Recipe, UnknownKeysNameTheirPath) {
  EXPECT_EQ(
      ErrorOf(
          R"({"name": "a", "version": "1", "source": "s", "phases": {"compile": "x"}, "sorce": 1})"),
      "r.json: $.sorce: unknown key (did you mean 'source'?)");
  EXPECT_EQ(ErrorOf(R"({"name": "a", "version": "1", "source": "s", "phases": {"compiel": "x"}})"),
            "r.json: $.phases.compiel: unknown key (did you mean 'compile'?)");
  EXPECT_EQ(ErrorOf(R"({"name": "a", "version": "1", "source": "s", "phases": {"compile": "x"},
      "define_implementations": {"g": {"program": "/bin/true", "envs": {}}}})"),
            "r.json: $.define_implementations.g.envs: unknown key (did you mean 'env'?)");
}

TEST(Recipe, BadValuesAreRejected) {
  const std::string base = R"("version": "1", "source": "s", "phases": {"compile": "x"})";
  EXPECT_NE(ErrorOf("{" + base + "}").find("$.name: required key is missing"), std::string::npos);
  EXPECT_NE(ErrorOf(R"({"name": 3, )" + base + "}").find("$.name: expected a string"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"name": "a/b", )" + base + "}").find("$.name"), std::string::npos);
  EXPECT_NE(ErrorOf(R"({"name": "a", "wrap": ["../etc"], )" + base + "}").find("$.wrap[0]"),
            std::string::npos);
  EXPECT_NE(
      ErrorOf(R"({"name": "a", "env": {"D": "/"}, )" + base + "}").find("$.env.D: set by nsbuild"),
      std::string::npos);
  EXPECT_NE(ErrorOf(R"({"name": "a", "env": {"1X": "y"}, )" + base + "}").find("$.env.1X"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"name": "a", "source_date_epoch": -1, )" + base + "}")
                .find("$.source_date_epoch"),
            std::string::npos);
  EXPECT_NE(
      ErrorOf(R"({"name": "a", "version": "1", "source": "s", "phases": {"compile": ["ok", 7]}})")
          .find("$.phases.compile[1]: expected a string"),
      std::string::npos);
  EXPECT_NE(
      ErrorOf(R"({"name": "a", "version": "1", "source": "s", "phases": {}})").find("no phase"),
      std::string::npos);
  EXPECT_NE(ErrorOf(R"({"name": "a", "version": "1", "source": "s", "phases": {"compile": "x"},
      "define_implementations": {"g": {"program": "rel/path"}}})")
                .find("must be an absolute path"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"([1, 2])").find("expected an object"), std::string::npos);
  EXPECT_NE(ErrorOf("{\"name\": \n}").find("r.json:2:"), std::string::npos);
}

// Every recipe string that becomes a file name: letters, digits, . _ + -,
// not starting with '.', at most 64 characters; the error names the JSON path.
TEST(RecipeNames, PathNamesAreStrict) {
  for (const char* ok : {"a", "python3.11", "lua5.4", "foo_bar-1.0+dfsg", "A.b-c_d+e", "x.json"}) {
    EXPECT_EQ(PathNameProblem(ok), "") << ok;
  }
  for (const char* bad :
       {"", ".", "..", ".hidden", "a/b", "../x", "/abs", "a b", "a\nb", "a\x1b[31m", "tab\there",
        "1:2.0", "1.0~rc1", "caf\xc3\xa9", "a*", "$HOME"}) {
    EXPECT_NE(PathNameProblem(bad), "") << bad;
  }
  EXPECT_EQ(PathNameProblem(std::string(64, 'a')), "");
  EXPECT_NE(PathNameProblem(std::string(65, 'a')), "");
}

TEST(RecipeNames, EveryNameTheRecipeGivesIsChecked) {
  const std::string tail = R"("source": "s", "phases": {"compile": "x"})";
  EXPECT_EQ(ErrorOf(R"({"name": "a/../x", "version": "1", )" + tail + "}"),
            "r.json: $.name: may hold only letters, digits and . _ + - (it becomes a file name)");
  EXPECT_EQ(ErrorOf(R"({"name": ".x", "version": "1", )" + tail + "}"),
            "r.json: $.name: must not start with '.'");
  EXPECT_EQ(ErrorOf(R"({"name": "x", "version": "1/2", )" + tail + "}").substr(0, 18),
            "r.json: $.version:");
  EXPECT_EQ(ErrorOf(R"({"name": ")" + std::string(65, 'n') + R"(", "version": "1", )" + tail + "}"),
            "r.json: $.name: longer than 64 characters");
  EXPECT_EQ(ErrorOf(R"({"name": "x", "version": "1", "implementations": ["ok", "../../etc"], )" +
                    tail + "}")
                .substr(0, 28),
            "r.json: $.implementations[1]");
  EXPECT_EQ(
      ErrorOf(
          R"({"name": "x", "version": "1", "define_implementations": {"a/b": {"program": "/bin/sh"}}, )" +
          tail + "}")
          .substr(0, 34),
      "r.json: $.define_implementations.a");
  EXPECT_NE(
      ErrorOf(
          R"({"name": "x", "version": "1", "define_implementations": {"all": {"program": "/bin/sh"}}, )" +
          tail + "}")
          .find("$.define_implementations.all"),
      std::string::npos);
  // A policy is named, never given as a path.
  EXPECT_EQ(ErrorOf(R"({"name": "x", "version": "1", "policy": "/tmp/weak.json", )" + tail + "}")
                .substr(0, 17),
            "r.json: $.policy:");
  EXPECT_EQ(
      ErrorOf(R"({"name": "x", "version": "1", "policy": "../weak", )" + tail + "}").substr(0, 17),
      "r.json: $.policy:");
}

TEST(RecipeNames, SourceStaysBeneathTheRecipe) {
  auto with = [](const std::string& source) {
    return R"({"name": "x", "version": "1", "source": ")" + source +
           R"(", "phases": {"compile": "x"}})";
  };
  EXPECT_NE(ErrorOf(with("/etc")).find("$.source: must be relative"), std::string::npos);
  EXPECT_NE(ErrorOf(with("../../etc")).find("$.source: must stay beneath"), std::string::npos);
  EXPECT_NE(ErrorOf(with("a/../../b")).find("$.source: must stay beneath"), std::string::npos);
  EXPECT_NE(ErrorOf(with("..")).find("$.source: must stay beneath"), std::string::npos);
  EXPECT_NE(ErrorOf(with("")).find("$.source: must not be empty"), std::string::npos);
  EXPECT_TRUE(Parse(with("a/../b")).ok());
  EXPECT_TRUE(Parse(with("src.tar.gz")).ok());
}

TEST(Plan, ChainsPhasesAndJoinsAllPhases) {
  auto r = Parse(kGood);
  ASSERT_TRUE(r.ok());
  std::vector<Implementation> impls(2);
  impls[0].name = "python3.11";
  impls[1].name = "pypy3";
  Plan plan = MakePlan(*r, impls);
  // configure, compile, install per impl (no test command), then all:install.
  ASSERT_EQ(plan.nodes.size(), 7u);
  EXPECT_EQ(plan.targets, (std::vector<std::string>{"python3.11", "pypy3", "all"}));
  EXPECT_EQ(plan.NameOf(plan.nodes[1]), "python3.11:compile");
  EXPECT_EQ(plan.nodes[1].deps, std::vector<size_t>{0});
  EXPECT_TRUE(plan.nodes[3].deps.empty());
  EXPECT_EQ(plan.NameOf(plan.nodes[6]), "all:install");
  EXPECT_EQ(plan.nodes[6].deps, (std::vector<size_t>{2, 5}));
  for (const auto& n : plan.nodes) {
    for (size_t d : n.deps) EXPECT_LT(d, n.id);
  }
  EXPECT_NE(DescribePlan(plan).find("[6] all:install after [2] [5]"), std::string::npos);
}

}  // namespace
}  // namespace nsbuild::builder
