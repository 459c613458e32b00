#include "merge/merge_policy.h"

#include <gtest/gtest.h>

namespace nsbuild::merge {
namespace {

TEST(MergePolicy, DefaultsMatchTheIssue) {
  auto p = ParseMergePolicy(nlohmann::json::object(), "p: $.merge");
  ASSERT_TRUE(p.ok()) << p.error().Message();
  EXPECT_EQ(p->owner_uid, 0u);
  EXPECT_EQ(p->owner_gid, 0u);
  EXPECT_EQ(p->allowed_prefixes, (std::vector<std::string>{"/usr", "/etc", "/opt", "/var/lib"}));
  EXPECT_EQ(p->protected_config, (std::vector<std::string>{"/etc"}));
  EXPECT_TRUE(p->fatal_notices.empty());
}

TEST(MergePolicy, ParsesEveryKey) {
  auto j =
      nlohmann::json::parse(R"({"owner": "123:root", "allowed_prefixes": ["/usr", "/usr/local"],
    "protected_config": ["/etc", "/usr/share/config"], "allowed_xattrs": ["security.capability"],
    "fatal_notices": ["execstack"], "build_dirs": ["/b"], "max_depth": 10,
    "max_path_length": 200, "max_name_length": 100, "max_file_size": 4096})");
  auto p = ParseMergePolicy(j, "p: $.merge");
  ASSERT_TRUE(p.ok()) << p.error().Message();
  EXPECT_EQ(p->owner_uid, 123u);
  EXPECT_EQ(p->owner_gid, 0u);
  EXPECT_TRUE(p->NoticeIsFatal("execstack"));
  EXPECT_FALSE(p->NoticeIsFatal("textrel"));
  EXPECT_EQ(p->max_depth, 10);
  EXPECT_EQ(p->max_file_size, 4096);
  EXPECT_EQ(p->build_dirs, std::vector<std::string>{"/b"});
}

TEST(MergePolicy, ErrorsNameTheJsonPath) {
  auto unknown =
      ParseMergePolicy(nlohmann::json::parse(R"({"owner": "0:0", "ownr": 1})"), "p: $.merge");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().Message().find("$.merge.ownr"), std::string::npos)
      << unknown.error().Message();
  auto owner = ParseMergePolicy(nlohmann::json::parse(R"({"owner": "wheel"})"), "p: $.merge");
  ASSERT_FALSE(owner.ok());
  EXPECT_NE(owner.error().Message().find("$.merge.owner"), std::string::npos);
  auto notice = ParseMergePolicy(nlohmann::json::parse(R"({"fatal_notices": ["nope"]})"), "p");
  ASSERT_FALSE(notice.ok());
  EXPECT_NE(notice.error().Message().find("unknown notice"), std::string::npos);
  auto rel = ParseMergePolicy(nlohmann::json::parse(R"({"allowed_prefixes": ["usr"]})"), "p");
  EXPECT_FALSE(rel.ok());
  auto type = ParseMergePolicy(nlohmann::json::parse(R"({"max_depth": "deep"})"), "p");
  EXPECT_FALSE(type.ok());
}

TEST(MergePolicy, WritableDirsNeedAReason) {
  auto ok = ParseMergePolicy(
      nlohmann::json::parse(
          R"({"writable_dirs": [{"path": "/var/lib/spool", "reason": "users queue jobs"}]})"),
      "p: $.merge");
  ASSERT_TRUE(ok.ok()) << ok.error().Message();
  ASSERT_EQ(ok->writable_dirs.size(), 1u);
  EXPECT_EQ(ok->writable_dirs[0].path, "/var/lib/spool");
  auto none = ParseMergePolicy(
      nlohmann::json::parse(R"({"writable_dirs": [{"path": "/var/lib/spool"}]})"), "p: $.merge");
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().Message().find("$.merge.writable_dirs[0].reason"), std::string::npos)
      << none.error().Message();
  auto blank = ParseMergePolicy(
      nlohmann::json::parse(R"({"writable_dirs": [{"path": "/var/lib/spool", "reason": "  "}]})"),
      "p: $.merge");
  EXPECT_FALSE(blank.ok());
  auto relative = ParseMergePolicy(
      nlohmann::json::parse(R"({"writable_dirs": [{"path": "spool", "reason": "x"}]})"),
      "p: $.merge");
  EXPECT_FALSE(relative.ok());
}

}  // namespace
}  // namespace nsbuild::merge
