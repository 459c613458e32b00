#include "base/result.h"

#include <gtest/gtest.h>

#include "base/json_reader.h"

namespace nsbuild::base {
namespace {

Result<int> Half(int x) {
  if (x % 2) return PlainError("odd number " + std::to_string(x));
  return x / 2;
}

Result<int> Quarter(int x) {
  NSB_ASSIGN_OR_RETURN(int h, Half(x));
  return Half(h);
}

TEST(Result, PropagatesTheFirstError) {
  EXPECT_EQ(*Quarter(8), 2);
  auto r = Quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().Message(), "odd number 3");
}

TEST(Result, MessageIncludesStrerror) {
  Error e{ENOENT, "open /nope"};
  EXPECT_EQ(e.Message(), "open /nope: No such file or directory");
}

TEST(JsonObject, RejectsUnknownKeysWithTheirPath) {
  auto j = nlohmann::json::parse(R"({"name": "x", "nmae": "y"})");
  JsonObject o(j, "recipe.json: $");
  std::string name;
  ASSERT_TRUE(o.Get("name", &name, true).ok());
  auto s = o.Finish();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().Message(), "recipe.json: $.nmae: unknown key (did you mean 'name'?)");
}

TEST(JsonObject, WrongTypeNamesPathAndTypes) {
  auto j = nlohmann::json::parse(R"({"jobs": "four"})");
  JsonObject o(j, "$");
  int64_t jobs = 0;
  auto s = o.Get("jobs", &jobs);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().Message(), "$.jobs: expected an integer, got string");
}

TEST(ParseJsonText, ErrorsNameLineAndColumn) {
  auto r = ParseJsonText("{\n  \"a\": 1,\n  oops\n}", "p.json");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().Message().rfind("p.json:3:", 0), 0u) << r.error().Message();
}

}  // namespace
}  // namespace nsbuild::base

namespace nsbuild::base {
namespace {

TEST(ParseJsonText, NumbersTooLargeAreAnErrorNotACrash) {
  // Found by fuzz_policy: nlohmann throws out_of_range, not parse_error.
  auto r = ParseJsonText("{\"a\": 1e999999}", "big.json");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().Message().rfind("big.json", 0), 0u);
}

}  // namespace
}  // namespace nsbuild::base
