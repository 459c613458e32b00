// Planning turns a policy and a request into primitive mount steps, a final
// environment and resolved ids, without running anything.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "sandbox/plan.h"

namespace nsbuild::sandbox {
namespace {

const MountOp* Find(const SandboxSpec& s, const std::string& target) {
  for (const auto& m : s.mounts) {
    if (m.target == target) return &m;
  }
  return nullptr;
}

RunRequest Req(std::vector<std::string> argv = {"true"}) {
  RunRequest r;
  r.argv = std::move(argv);
  return r;
}

TEST(Plan, MirrorLinksFollowTheHost) {
  Policy p;
  p.mirror_links = {"/bin", "/no-such-top-level-dir"};
  auto s = PlanSandbox(p, Req());
  ASSERT_TRUE(s.ok()) << s.error().Message();
  struct stat st;
  ASSERT_EQ(lstat("/bin", &st), 0);
  const MountOp* bin = Find(*s, "/bin");
  ASSERT_NE(bin, nullptr);
  EXPECT_EQ(bin->kind, S_ISLNK(st.st_mode) ? MountKind::kSymlink : MountKind::kRoBind);
  EXPECT_EQ(Find(*s, "/no-such-top-level-dir"), nullptr);
}

TEST(Plan, SourcesAreCanonicalAndMissingOnesFail) {
  Policy p;
  RunRequest r = Req();
  r.mounts.push_back(MountOp{MountKind::kRoBind, "/usr/../usr/bin", "/b"});
  auto s = PlanSandbox(p, r);
  ASSERT_TRUE(s.ok()) << s.error().Message();
  EXPECT_EQ(Find(*s, "/b")->source, "/usr/bin");
  r.mounts = {MountOp{MountKind::kBind, "/no/such/source", "/x"}};
  auto bad = PlanSandbox(p, r);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().Message(), "bind source /no/such/source: No such file or directory");
  r.mounts = {MountOp{MountKind::kBind, "/no/such/source", "/x", true}};
  EXPECT_TRUE(PlanSandbox(p, r).ok());  // optional: skipped
}

TEST(Plan, TargetsMustBeNormalisedAbsolutePaths) {
  Policy p;
  for (const char* bad : {"rel", "/a/../b", "/a//b", "/./a"}) {
    RunRequest r = Req();
    r.mounts = {MountOp{MountKind::kTmpfs, "", bad}};
    EXPECT_FALSE(PlanSandbox(p, r).ok()) << bad;
  }
  RunRequest cwd = Req();
  cwd.cwd = "src";
  EXPECT_FALSE(PlanSandbox(p, cwd).ok());
}

TEST(Plan, NoexecWritableMarksWritableMountsOnly) {
  Policy p;
  p.noexec_writable = true;
  p.tmpfs = {"/tmp"};
  p.ro_binds = {MountOp{MountKind::kRoBind, "/usr", "/usr"}};
  auto s = PlanSandbox(p, Req());
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(Find(*s, "/tmp")->noexec);
  EXPECT_FALSE(Find(*s, "/usr")->noexec);
}

TEST(Plan, EnvironmentIsAllowListThenPolicyThenRequest) {
  Policy p;
  p.env_keep = {"TERM", "LANG"};
  p.env_set = {{"PATH", "/usr/bin"}, {"LANG", "C"}};
  RunRequest r = Req();
  const char* caller[] = {"TERM=xterm", "SECRET=x", "LANG=de_DE", nullptr};
  r.caller_env = caller;
  r.setenv = {{"PATH", "/opt/bin"}};
  auto s = PlanSandbox(p, r);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->env, (std::vector<std::string>{"LANG=C", "PATH=/opt/bin", "TERM=xterm"}));
}

TEST(Plan, DevIsMinimalAndEndsReadOnly) {
  Policy p;
  auto s = PlanSandbox(p, Req());
  ASSERT_TRUE(s.ok());
  std::vector<std::string> devices;
  for (const auto& m : s->mounts) {
    if (m.allow_devices) devices.push_back(m.target);
  }
  EXPECT_EQ(devices, (std::vector<std::string>{"/dev/null", "/dev/zero", "/dev/full", "/dev/random",
                                               "/dev/urandom", "/dev/tty"}));
  auto last_dev = std::find_if(s->mounts.rbegin(), s->mounts.rend(),
                               [](const MountOp& m) { return m.target.rfind("/dev", 0) == 0; });
  EXPECT_EQ(last_dev->kind, MountKind::kRemountRo);
}

TEST(Plan, IdsMapToAnUnprivilegedRange) {
  Policy p;
  p.host_range = std::make_pair(200000u, 65536u);
  auto s = PlanSandbox(p, Req());
  ASSERT_TRUE(s.ok());
  if (geteuid() == 0) {
    EXPECT_EQ(s->ids.host_uid_base, 200000u);
    EXPECT_EQ(s->ids.count, 65536u);
    RunRequest r = Req();
    r.inside_uid = 70000;  // outside the range
    EXPECT_FALSE(PlanSandbox(p, r).ok());
  } else {
    EXPECT_EQ(s->ids.host_uid_base, geteuid());
    EXPECT_EQ(s->ids.count, 1u);
  }
}

TEST(Plan, DescriptionListsMountsAndRules) {
  Policy p;
  p.tmpfs = {"/tmp"};
  auto s = PlanSandbox(p, Req({"make", "-j4"}));
  ASSERT_TRUE(s.ok());
  std::string d = DescribePlan(*s);
  EXPECT_NE(d.find("tmpfs /tmp"), std::string::npos);
  EXPECT_NE(d.find("group mount"), std::string::npos);
  EXPECT_NE(d.find("command: make -j4"), std::string::npos);
}

}  // namespace
}  // namespace nsbuild::sandbox
