// builder/build_policy.h and the merge request of builder/images.h: a policy
// document is parsed once into every module's part, and the merge of a
// build gets the part the build parsed, with no second read by name.
#include "builder/build_policy.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "builder/images.h"

namespace nsbuild::builder {
namespace {

namespace fs = std::filesystem;

class BuildPolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string t = (fs::temp_directory_path() / "nsbuild-build-policy.XXXXXX").string();
    dir_ = ::mkdtemp(t.data());
    ::chmod(dir_.c_str(), 0755);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string Write(const std::string& name, const std::string& text) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    return path;
  }
  std::string dir_;
};

TEST_F(BuildPolicyTest, EveryPartOfTheDocumentIsParsedOnce) {
  std::string path = Write("p.json", R"({"sandbox": {"filesystem": {"ro_bind": ["/usr"]}},
    "writes": {"on_violation": "warn"}, "merge": {"max_depth": 7}})");
  auto p = LoadBuildPolicy(path);
  ASSERT_TRUE(p.ok()) << p.error().Message();
  EXPECT_EQ(p->name, path);
  EXPECT_EQ(p->path, path);
  EXPECT_EQ(p->writes.on_violation, OnViolation::kWarn);
  EXPECT_EQ(p->merge.max_depth, 7);
}

TEST_F(BuildPolicyTest, ABadMergePartIsBadInputBeforeAnythingRuns) {
  std::string path = Write("p.json", R"({"sandbox": {"filesystem": {"ro_bind": ["/usr"]}},
    "merge": {"max_depth": "deep"}})");
  auto p = LoadBuildPolicy(path);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().Message().find("$.merge"), std::string::npos) << p.error().Message();
}

TEST_F(BuildPolicyTest, TheMergeRequestCarriesWhatTheBuildParsed) {
  BuildSetup s;
  s.recipe.name = "pkg";
  s.recipe.wrap = {"usr/bin"};
  s.recipe.sha256 = "abc";
  s.impls.resize(2);
  s.impls[0].name = "pypy3";
  s.impls[1].name = "python3.11";
  s.policy.merge.max_depth = 9;
  s.policy.merge.allowed_prefixes = {"/opt/only"};
  std::string recipe = Write("recipe.json", "{}");
  std::vector<BuiltImage> images = {{"pypy3", "/w/a", 1, 2}, {"all", "/w/b", 0, 0}};
  auto req = MergeRequestOf({&s, images, 1700000000, "/dest", recipe, true});
  ASSERT_TRUE(req.ok()) << req.error().Message();
  EXPECT_EQ(req->dest, "/dest");
  EXPECT_EQ(req->package, "pkg");
  ASSERT_EQ(req->images.size(), 2u);
  EXPECT_EQ(req->images[1].impl, "all");
  EXPECT_EQ(req->images[1].path, "/w/b");
  // The build's preference (impls.h, PreferenceOrder): CPython before PyPy.
  EXPECT_EQ(req->impl_order, (std::vector<std::string>{"python3.11", "pypy3"}));
  EXPECT_EQ(req->wrapped_dirs, s.recipe.wrap);
  EXPECT_EQ(req->policy.max_depth, 9);
  EXPECT_EQ(req->policy.allowed_prefixes, s.policy.merge.allowed_prefixes);
  EXPECT_EQ(req->source_date_epoch.value_or(0), 1700000000);
  EXPECT_EQ(req->origin, "recipe " + fs::canonical(recipe).string());
  EXPECT_EQ(req->origin_sha256, "abc");
  EXPECT_TRUE(req->replace);
}

}  // namespace
}  // namespace nsbuild::builder
