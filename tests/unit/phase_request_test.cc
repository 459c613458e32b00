#include "builder/phase_request.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <map>

namespace nsbuild::builder {
namespace {

struct Fixture {
  Fixture() {
    recipe.name = "p";
    recipe.version = "1";
    recipe.phases.compile = "make";
    recipe.all_phases.install = "cp docs $D";
    recipe.env = {{"CFLAGS", "-O2"}};
    Implementation py;
    py.name = "python3.11";
    py.program = "/usr/bin/python3.11";
    Implementation gen;
    gen.name = "lua";
    gen.kind = ImplKind::kGeneric;
    gen.program = "/usr/bin/lua";
    gen.env = {{"LUA", "5.4"}};
    ctx.impls = {py, gen};
    plan = MakePlan(recipe, ctx.impls);
    // A dir of this process's own: ctest runs the fixture's tests in
    // parallel, and a shared name had them reset each other's work dir.
    std::string tmpl = ::testing::TempDir() + "/phase_request_work.XXXXXX";
    EXPECT_NE(::mkdtemp(tmpl.data()), nullptr);
    top = tmpl;
    auto w = WorkDir::Prepare(tmpl + "/w");
    EXPECT_TRUE(w.ok());
    work = std::move(w).value();
    ctx.recipe = &recipe;
    ctx.work = &work;
    ctx.source_root = "/host/src";
    ctx.source_date_epoch = 1700000000;
    ctx.jobs = 3;
    js.makeflags = " -j3 --jobserver-auth=5,6";
    js.pass_fds = {5, 6};
    ctx.stdin_fd = 9;
  }
  ~Fixture() {
    std::error_code ec;
    if (!top.empty()) std::filesystem::remove_all(top, ec);
  }
  std::string top;
  std::map<std::string, std::string> Env(size_t target) {
    std::map<std::string, std::string> m;
    for (const auto& [k, v] : PhaseEnvironment(ctx, plan, target, js.makeflags)) m[k] = v;
    return m;
  }
  Recipe recipe;
  BuildContext ctx;
  PhaseJobserver js;
  Plan plan;
  WorkDir work;
};

TEST(PhaseRequest, OverlayAndPrivateDirsPerTarget) {
  Fixture f;
  auto a = MakePhaseRequest(f.ctx, f.plan, f.plan.nodes[0], 7, f.js);
  auto b = MakePhaseRequest(f.ctx, f.plan, f.plan.nodes[1], 8, f.js);
  ASSERT_EQ(a.mounts.size(), 5u);
  EXPECT_EQ(a.mounts[0].kind, sandbox::MountKind::kOverlay);
  EXPECT_EQ(a.mounts[0].source, "/host/src");
  EXPECT_EQ(a.mounts[0].target, InsideLayout().Source());
  EXPECT_EQ(a.mounts[0].upper, f.work.Target("python3.11").upper);
  EXPECT_EQ(b.mounts[0].upper, f.work.Target("lua").upper);
  // Same inside paths, different host directories: no target sees another's.
  for (size_t i = 0; i < a.mounts.size(); ++i) {
    EXPECT_EQ(a.mounts[i].target, b.mounts[i].target);
    if (i > 0) {
      EXPECT_EQ(a.mounts[i].kind, sandbox::MountKind::kBind);
      EXPECT_NE(a.mounts[i].source, b.mounts[i].source);
      EXPECT_EQ(a.mounts[i].source.rfind(f.work.Target("python3.11").root, 0), 0u);
    }
  }
  EXPECT_EQ(a.argv, (std::vector<std::string>{"/bin/sh", "-c", "make"}));
  EXPECT_EQ(a.cwd, InsideLayout().Source());
  EXPECT_EQ(a.pass_fds, (std::vector<int>{5, 6}));
  EXPECT_EQ(a.stdin_fd, 9);
  EXPECT_EQ(a.stdout_fd, 7);
  EXPECT_EQ(a.stderr_fd, 7);
}

TEST(PhaseRequest, EnvironmentHasEveryStandardVariable) {
  Fixture f;
  auto env = f.Env(0);
  EXPECT_EQ(env["IMPL"], "python3.11");
  EXPECT_EQ(env["PYTHON"], "/usr/bin/python3.11");
  EXPECT_EQ(env["EPYTHON"], "python3.11");
  EXPECT_EQ(env["S"], "/nsbuild/src");
  EXPECT_EQ(env["BUILD_DIR"], "/nsbuild/build");
  EXPECT_EQ(env["D"], "/nsbuild/image");
  EXPECT_EQ(env["T"], "/nsbuild/tmp");
  EXPECT_EQ(env["TMPDIR"], "/nsbuild/tmp");
  EXPECT_EQ(env["HOME"], "/nsbuild/home");
  EXPECT_EQ(env["JOBS"], "3");
  EXPECT_EQ(env["MAKEFLAGS"], " -j3 --jobserver-auth=5,6");
  EXPECT_EQ(env["SOURCE_DATE_EPOCH"], "1700000000");
  EXPECT_EQ(env["PATH"], "/usr/local/bin:/usr/bin:/bin");
  EXPECT_EQ(env["CFLAGS"], "-O2");
  EXPECT_EQ(env.count("LUA"), 0u);
}

TEST(PhaseRequest, GenericAndAllTargetsUseTheDefaultPython) {
  Fixture f;
  auto lua = f.Env(1);
  EXPECT_EQ(lua["IMPL"], "lua");
  EXPECT_EQ(lua["LUA"], "5.4");
  EXPECT_EQ(lua["PYTHON"], "/usr/bin/python3.11");
  auto all = f.Env(2);
  EXPECT_EQ(all["IMPL"], "all");
  EXPECT_EQ(all["EPYTHON"], "python3.11");
}

// verify's build_path and home factors give another layout: every inside
// path follows it, and a value the recipe's author wrote stays as written
// (no substring of it is rewritten).
TEST(PhaseRequest, TheLayoutMovesEveryInsidePathButNotTheRecipesValues) {
  Fixture f;
  f.recipe.env.push_back({"DOCDIR", "/nsbuild/image/usr/share/doc"});
  f.ctx.layout.root = "/var/tmp/elsewhere";
  f.ctx.layout.home = "/var/tmp/home2";
  auto req = MakePhaseRequest(f.ctx, f.plan, f.plan.nodes[0], 7, f.js);
  for (const auto& m : req.mounts) {
    EXPECT_TRUE(m.target.starts_with("/var/tmp/")) << m.target;
  }
  EXPECT_EQ(req.cwd, "/var/tmp/elsewhere/src");
  std::map<std::string, std::string> env(req.setenv.begin(), req.setenv.end());
  EXPECT_EQ(env["S"], "/var/tmp/elsewhere/src");
  EXPECT_EQ(env["D"], "/var/tmp/elsewhere/image");
  EXPECT_EQ(env["HOME"], "/var/tmp/home2");
  EXPECT_EQ(env["DOCDIR"], "/nsbuild/image/usr/share/doc");
}

// The rest of the conditions come after the request is made, once.
TEST(PhaseRequest, TheVaryHookSeesTheFinishedRequest) {
  Fixture f;
  int calls = 0;
  f.ctx.vary = [&calls](sandbox::RunRequest& req) {
    ++calls;
    EXPECT_EQ(req.cwd, "/nsbuild/src");
    req.hostname = "varied";
  };
  auto req = MakePhaseRequest(f.ctx, f.plan, f.plan.nodes[0], 7, f.js);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(req.hostname.value_or(""), "varied");
}

}  // namespace
}  // namespace nsbuild::builder
