// Policy files parse into typed structs; every mistake names its JSON path.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <nlohmann/json.hpp>

#include "base/json_reader.h"
#include "sandbox/policy.h"

namespace nsbuild::sandbox {
namespace {

base::Result<Policy> Parse(const std::string& text) {
  return ParsePolicy(nlohmann::json::parse(text), "p.json: $.sandbox");
}

std::string ErrorOf(const std::string& text) {
  auto r = Parse(text);
  return r.ok() ? "(parsed)" : r.error().Message();
}

TEST(Policy, BundledPoliciesParse) {
  for (const char* name : {"default", "strict"}) {
    std::string path = std::string(NSBUILD_SOURCE_DIR) + "/policies/" + name + ".json";
    auto doc = base::ParseJsonFile(path);
    ASSERT_TRUE(doc.ok()) << doc.error().Message();
    auto p = ParsePolicy(doc->at("sandbox"), path);
    ASSERT_TRUE(p.ok()) << p.error().Message();
    EXPECT_TRUE(p->seccomp.enabled);
    EXPECT_FALSE(p->ro_binds.empty());
  }
}

TEST(Policy, ReadsEveryKind) {
  auto p = Parse(R"({
    "filesystem": {"ro_bind": ["/usr", {"src": "/opt/x", "dst": "/x", "optional": true}],
                   "mirror_links": ["/bin"], "tmpfs": ["/tmp"], "dirs": ["/home"],
                   "hide": ["/etc/shadow"], "noexec_writable": true, "tmpfs_size_mib": 64},
    "network": "none", "hostname": "h", "ids": {"inside_uid": 1000, "inside_gid": 100},
    "rlimits": {"nofile": 1024, "core": 0, "as": "unlimited"},
    "environment": {"keep": ["TERM"], "set": {"PATH": "/usr/bin"}},
    "umask": "027", "timeout_seconds": 60,
    "seccomp": {"deny": ["mount", "tty-inject"]}})");
  ASSERT_TRUE(p.ok()) << p.error().Message();
  ASSERT_EQ(p->ro_binds.size(), 2u);
  EXPECT_EQ(p->ro_binds[1].target, "/x");
  EXPECT_TRUE(p->ro_binds[1].optional);
  EXPECT_EQ(p->net, NetMode::kNone);
  EXPECT_EQ(p->inside_uid, 1000u);
  EXPECT_EQ(p->tmpfs_size, 64u << 20);
  EXPECT_EQ(p->umask, 027u);
  EXPECT_EQ(p->timeout_seconds, 60);
  ASSERT_EQ(p->rlimits.size(), 3u);
  EXPECT_EQ(p->env_set[0].first, "PATH");
  EXPECT_EQ(p->seccomp.deny_groups.size(), 2u);
}

TEST(Policy, MistakesNameTheirPath) {
  EXPECT_EQ(ErrorOf(R"({"netwrok": "none"})"),
            "p.json: $.sandbox.netwrok: unknown key (did you mean 'network'?)");
  EXPECT_EQ(ErrorOf(R"({"network": "internet"})"),
            "p.json: $.sandbox.network: expected \"none\", \"loopback\", \"distcc\" or \"host\", "
            "got \"internet\"");
  EXPECT_EQ(ErrorOf(R"({"filesystem": {"tmpfs": ["tmp"]}})"),
            "p.json: $.sandbox.filesystem.tmpfs[0]: 'tmp' is not an absolute path");
  EXPECT_EQ(ErrorOf(R"({"filesystem": {"ro_bind": [{"src": "/usr", "ro": true}]}})"),
            "p.json: $.sandbox.filesystem.ro_bind[0].ro: unknown key");
  EXPECT_EQ(ErrorOf(R"({"rlimits": {"nofiles": 1}})"),
            "p.json: $.sandbox.rlimits.nofiles: unknown rlimit");
  EXPECT_EQ(ErrorOf(R"({"rlimits": {"nofile": -1}})"),
            "p.json: $.sandbox.rlimits.nofile: expected a non-negative integer or \"unlimited\"");
  EXPECT_EQ(ErrorOf(R"({"umask": "999"})"),
            "p.json: $.sandbox.umask: expected an octal umask like \"022\"");
  EXPECT_EQ(ErrorOf(R"({"hostname": 7})"),
            "p.json: $.sandbox.hostname: expected a string, got number");
  EXPECT_NE(ErrorOf(R"({"seccomp": {"deny": ["mounts"]}})")
                .find("$.sandbox.seccomp.deny: unknown seccomp group 'mounts'"),
            std::string::npos);
  EXPECT_EQ(ErrorOf(R"({"ids": {"host_base": 0, "host_count": 10}})"),
            "p.json: $.sandbox.ids: host range must be unprivileged and non-empty");
  EXPECT_EQ(ErrorOf(R"([])"), "p.json: $.sandbox: expected an object");
}

}  // namespace
}  // namespace nsbuild::sandbox
