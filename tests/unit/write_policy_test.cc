#include "builder/write_policy.h"

#include <gtest/gtest.h>

namespace nsbuild::testing {
namespace {

using builder::OnViolation;

builder::PolicyDocument Doc(const char* text) { return {"p.json", nlohmann::json::parse(text)}; }

TEST(WritesPolicy, AbsentMeansWatchAndFail) {
  auto p = builder::WritesPolicyOf(Doc(R"({"sandbox": {}})"));
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->watch);
  EXPECT_EQ(p->on_violation, OnViolation::kFail);
}

TEST(WritesPolicy, WarnAndOffAreRead) {
  auto p = builder::WritesPolicyOf(Doc(R"({"writes": {"watch": false, "on_violation": "warn"}})"));
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->watch);
  EXPECT_EQ(p->on_violation, OnViolation::kWarn);
}

TEST(WritesPolicy, MistakesNameTheirPath) {
  auto bad = builder::WritesPolicyOf(Doc(R"({"writes": {"on_violation": "ignore"}})"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().Message(),
            "p.json: $.writes.on_violation: must be \"fail\" or \"warn\", not \"ignore\"");
  auto typo = builder::WritesPolicyOf(Doc(R"({"writes": {"wach": true}})"));
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.error().Message().find("$.writes.wach: unknown key"), std::string::npos);
  auto type = builder::WritesPolicyOf(Doc(R"({"writes": {"watch": "yes"}})"));
  EXPECT_FALSE(type.ok());
}

}  // namespace
}  // namespace nsbuild::testing
