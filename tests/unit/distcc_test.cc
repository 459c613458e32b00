// distcc host lists, the "distcc" network in policies and plans, the build
// environment and the counting of distcc's log: no processes, no kernel.
#include "builder/distcc.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "builder/inside_layout.h"
#include "sandbox/distcc_hosts.h"
#include "sandbox/plan.h"
#include "sandbox/policy.h"
#include "sandbox/seccomp_rules.h"

namespace nsbuild {
namespace {

using sandbox::DistccHost;

std::vector<DistccHost> Hosts(const std::string& text) {
  auto r = sandbox::ParseDistccHosts(text, "--distcc");
  EXPECT_TRUE(r.ok()) << r.error().Message();
  return r.ok() ? *r : std::vector<DistccHost>{};
}

std::string HostsError(const std::string& text) {
  auto r = sandbox::ParseDistccHosts(text, "--distcc");
  return r.ok() ? "(parsed)" : r.error().Message();
}

TEST(DistccHosts, ParsesDistccSyntax) {
  auto h = Hosts("10.0.0.5/8  build-2:3633/4,lzo 10.0.0.7");
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h[0].host, "10.0.0.5");
  EXPECT_EQ(h[0].port, 3632);
  EXPECT_EQ(h[0].slots, 8);
  EXPECT_EQ(h[1].host, "build-2");
  EXPECT_EQ(h[1].port, 3633);
  EXPECT_EQ(h[1].options, ",lzo");
  EXPECT_EQ(h[2].slots, 0);
  EXPECT_EQ(sandbox::DistccRemoteSlots(h), 8 + 4 + sandbox::kDistccDefaultSlots);
}

TEST(DistccHosts, InsideListKeepsLimitsAndOptions) {
  EXPECT_EQ(sandbox::InsideDistccHosts(Hosts("10.0.0.5/8 b:3633/4,lzo c")),
            "127.0.0.2:3632/8 127.0.0.3:3633/4,lzo 127.0.0.4:3632");
}

TEST(DistccHosts, RefusesWhatCannotBeForwarded) {
  EXPECT_NE(HostsError("").find("no distcc host"), std::string::npos);
  EXPECT_NE(HostsError("localhost/2").find("localhost means"), std::string::npos);
  EXPECT_NE(HostsError("me@10.0.0.1").find("ssh hosts"), std::string::npos);
  EXPECT_NE(HostsError("--randomize 10.0.0.1").find("distcc options"), std::string::npos);
  EXPECT_NE(HostsError("10.0.0.1:0").find("port must be"), std::string::npos);
  EXPECT_NE(HostsError("10.0.0.1:x").find("port must be"), std::string::npos);
  EXPECT_NE(HostsError("10.0.0.1/0").find("job limit"), std::string::npos);
  EXPECT_NE(HostsError("a_b").find("expected ADDR"), std::string::npos);
  std::string many;
  for (int i = 0; i < 33; ++i) many += "10.0.0." + std::to_string(i + 1) + " ";
  EXPECT_NE(HostsError(many).find("at most 32"), std::string::npos);
  // The message names where the list came from and the entry.
  EXPECT_EQ(HostsError("10.0.0.1:70000").rfind("--distcc: '10.0.0.1:70000'", 0), 0u);
}

base::Result<sandbox::Policy> ParsePolicy(const std::string& text) {
  return sandbox::ParsePolicy(nlohmann::json::parse(text), "p.json: $.sandbox");
}

TEST(DistccPolicy, NetworkDistccWithHosts) {
  auto p = ParsePolicy(R"({"network": "distcc", "distcc_hosts": "10.0.0.5/8"})");
  ASSERT_TRUE(p.ok()) << p.error().Message();
  EXPECT_EQ(p->net, sandbox::NetMode::kDistcc);
  ASSERT_EQ(p->distcc_hosts.size(), 1u);
  auto bad = ParsePolicy(R"({"network": "loopback", "distcc_hosts": "10.0.0.5"})");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().Message().find("$.sandbox.distcc_hosts"), std::string::npos)
      << bad.error().Message();
  bad = ParsePolicy(R"({"network": "distcc", "distcc_hosts": "localhost"})");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().Message().find("distcc_hosts"), std::string::npos);
}

sandbox::RunRequest Request() {
  sandbox::RunRequest req;
  req.argv = {"/bin/true"};
  return req;
}

TEST(DistccPlan, ForwardsOneInsideAddressPerDaemonAndDeniesListen) {
  sandbox::Policy policy;
  auto req = Request();
  req.distcc_hosts = Hosts("10.0.0.5/8 10.0.0.6:3633");
  auto spec = sandbox::PlanSandbox(policy, req);
  ASSERT_TRUE(spec.ok()) << spec.error().Message();
  EXPECT_EQ(spec->net, sandbox::NetMode::kDistcc);
  ASSERT_EQ(spec->forwards.size(), 2u);
  EXPECT_EQ(spec->forwards[1].inside_addr, "127.0.0.3");
  EXPECT_EQ(spec->forwards[1].inside_port, 3633);
  EXPECT_EQ(spec->forwards[1].daemon_addr, "10.0.0.6");
  EXPECT_TRUE(spec->seccomp.deny_listen);
  EXPECT_NE(sandbox::DescribeSeccomp(spec->seccomp).find("listen -> EPERM"), std::string::npos);
  // The default network stays closed: no forwards, listen allowed.
  auto plain = sandbox::PlanSandbox(policy, Request());
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->net, sandbox::NetMode::kLoopback);
  EXPECT_TRUE(plain->forwards.empty());
  EXPECT_FALSE(plain->seccomp.deny_listen);
}

TEST(DistccPlan, RefusesWhatItCannotEnforce) {
  sandbox::Policy policy;
  policy.seccomp.enabled = false;
  auto req = Request();
  req.distcc_hosts = Hosts("10.0.0.5");
  auto spec = sandbox::PlanSandbox(policy, req);
  ASSERT_FALSE(spec.ok());
  EXPECT_NE(spec.error().Message().find("needs the seccomp filter"), std::string::npos);
  sandbox::Policy no_hosts;
  no_hosts.net = sandbox::NetMode::kDistcc;
  spec = sandbox::PlanSandbox(no_hosts, Request());
  ASSERT_FALSE(spec.ok());
  EXPECT_NE(spec.error().Message().find("no daemons"), std::string::npos);
  req.net = sandbox::NetMode::kNone;
  spec = sandbox::PlanSandbox(sandbox::Policy{}, req);
  EXPECT_FALSE(spec.ok());
}

TEST(DistccBuild, EnvironmentPutsDistccFirstAndLimitsLocalWork) {
  builder::DistccConfig c;
  c.hosts = Hosts("10.0.0.5/8");
  c.local_cpus = 3;
  c.fallback = false;
  auto env = builder::DistccEnvironment(c, "/usr/bin:/bin", builder::InsideLayout().DistccDir());
  auto get = [&](const std::string& k) {
    for (const auto& [name, value] : env) {
      if (name == k) return value;
    }
    return std::string("(unset)");
  };
  EXPECT_EQ(get("PATH"), "/usr/lib/distcc:/usr/bin:/bin");
  EXPECT_EQ(get("DISTCC_HOSTS"), "--localslots=3 --localslots_cpp=3 127.0.0.2:3632/8");
  EXPECT_EQ(get("DISTCC_DIR"), "/nsbuild/distcc");
  EXPECT_EQ(get("DISTCC_FALLBACK"), "0");
}

TEST(DistccBuild, CountsCompileJobsFromDistccsLog) {
  const char* log =
      "distcc[6] compile from a.c to a.o\n"
      "distcc[6] cpp a.c on localhost completed ok\n"
      "distcc[6] compile a.c on 127.0.0.2:3632/2 completed ok\n"
      "distcc[7] (dcc_build_somewhere) Warning: failed to distribute, running locally instead\n"
      "distcc[7] compile b.c on localhost completed ok\n"
      "distcc[8] compile (null) on localhost completed ok\n"
      "distcc[9] compile c.c on 127.0.0.3:3632 completed ok\n"
      "distcc[10] ERROR: compile d.c on 127.0.0.2:3632/2 failed\n";
  auto n = builder::CountDistccLog(log);
  EXPECT_EQ(n.remote, 2u);
  EXPECT_EQ(n.local, 1u);
}

}  // namespace
}  // namespace nsbuild
