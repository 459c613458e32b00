#include "base/suggest.h"

#include <gtest/gtest.h>

#include "base/json_reader.h"

namespace nsbuild::base {
namespace {

TEST(Suggest, EditDistanceCountsSwapsAsOne) {
  EXPECT_EQ(EditDistance("version", "version"), 0u);
  EXPECT_EQ(EditDistance("verison", "version"), 1u);  // swap
  EXPECT_EQ(EditDistance("biuld", "build"), 1u);
  EXPECT_EQ(EditDistance("jbos", "jobs"), 1u);
  EXPECT_EQ(EditDistance("", "abc"), 3u);
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3u);
}

TEST(Suggest, NearestOnlyWhenCloseEnough) {
  std::vector<std::string> subs = {"run", "build", "verify", "verify-installed", "merge"};
  EXPECT_EQ(Nearest("biuld", subs), "build");
  EXPECT_EQ(Nearest("verfy", subs), "verify");
  EXPECT_EQ(Nearest("frobnicate", subs), "");
  EXPECT_EQ(Nearest("run", subs), "");  // an exact name is not a typo
  EXPECT_EQ(DidYouMean("mrege", subs), " (did you mean 'merge'?)");
  EXPECT_EQ(DidYouMean("zzz", subs), "");
}

TEST(Suggest, UnknownJsonKeyNamesTheNearestKnownKey) {
  nlohmann::json j = {{"name", "x"}, {"verison", "1"}};
  JsonObject o(j, "recipe.json: $");
  std::string name, version;
  ASSERT_TRUE(o.Get("name", &name).ok());
  ASSERT_TRUE(o.Get("version", &version).ok());
  Status s = o.Finish();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().Message(), "recipe.json: $.verison: unknown key (did you mean 'version'?)");
}

}  // namespace
}  // namespace nsbuild::base
