// The parent-side rules around the fenced child (sandbox/child/), through
// the library API: who may start a sandbox, what a move does to the sandbox
// it replaces, and which step a failed setup names.
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <thread>

#include "sandbox/plan.h"
#include "sandbox/sandbox.h"

namespace nsbuild::sandbox {
namespace {

// A minimal view: the host's /usr read-only and the merged-/usr links.
SandboxSpec Spec(std::vector<std::string> argv, std::string cwd = "/") {
  Policy policy;
  policy.ro_binds = {MountOp{.kind = MountKind::kRoBind, .source = "/usr", .target = "/usr"}};
  policy.mirror_links = {"/bin", "/lib", "/lib64", "/sbin"};
  RunRequest req;
  req.argv = std::move(argv);
  req.cwd = std::move(cwd);
  auto spec = PlanSandbox(policy, req);
  EXPECT_TRUE(spec) << spec.error().Message();
  return spec ? *spec : SandboxSpec{};
}

TEST(SandboxFence, StartRefusesAnyThreadButTheMainOne) {
  std::optional<base::Result<Sandbox>> started;
  std::thread([&] { started.emplace(Sandbox::Start(Spec({"/bin/true"}))); }).join();
  ASSERT_TRUE(started.has_value());
  ASSERT_FALSE(*started) << "a sandbox started from a worker thread";
  EXPECT_NE(started->error().Message().find("main thread"), std::string::npos)
      << started->error().Message();

  auto same = Sandbox::Start(Spec({"/bin/true"}));  // the main thread may
  ASSERT_TRUE(same) << same.error().Message();
  auto info = same->Wait();
  ASSERT_TRUE(info) << info.error().Message();
  EXPECT_EQ(info->ExitStatus(), 0);
}

TEST(SandboxFence, MoveAssignmentEndsTheSandboxItReplaces) {
  auto old_one = Sandbox::Start(Spec({"/bin/sleep", "60"}));
  ASSERT_TRUE(old_one) << old_one.error().Message();
  auto new_one = Sandbox::Start(Spec({"/bin/sh", "-c", "exit 7"}));
  ASSERT_TRUE(new_one) << new_one.error().Message();
  int watch = dup(old_one->pidfd());  // outlives the move
  ASSERT_GE(watch, 0);
  pid_t new_pid = new_one->pid();

  *old_one = std::move(*new_one);

  // The replaced sandbox is gone at once, not after its 60 s.
  pollfd pfd = {watch, POLLIN, 0};
  EXPECT_EQ(poll(&pfd, 1, 0), 1) << "the replaced sandbox still runs";
  close(watch);
  EXPECT_EQ(new_one->pid(), -1);
  // The moved sandbox is intact and waitable where it now lives.
  EXPECT_EQ(old_one->pid(), new_pid);
  auto info = old_one->Wait();
  ASSERT_TRUE(info) << info.error().Message();
  EXPECT_EQ(info->ExitStatus(), 7);
  EXPECT_FALSE(info->setup_failure);
}

TEST(SandboxFence, AFailedStepIsNamedWithItsErrno) {
  auto info = sandbox::Run(Spec({"/bin/true"}, "/no/such/dir"));
  ASSERT_TRUE(info) << info.error().Message();
  ASSERT_TRUE(info->setup_failure);
  EXPECT_EQ(info->setup_failure->step, Step::kChdir);
  EXPECT_EQ(info->setup_failure->errnum, ENOENT);
  EXPECT_EQ(info->ExitStatus(), 125);
  std::string message = info->setup_failure->Message();
  EXPECT_NE(message.find("'chdir'"), std::string::npos) << message;
  EXPECT_NE(message.find("No such file or directory"), std::string::npos) << message;

  auto missing = sandbox::Run(Spec({"/usr/bin/no-such-command"}));
  ASSERT_TRUE(missing) << missing.error().Message();
  ASSERT_TRUE(missing->setup_failure);
  EXPECT_EQ(missing->setup_failure->step, Step::kExec);
  EXPECT_EQ(missing->setup_failure->errnum, ENOENT);
  EXPECT_EQ(missing->setup_failure->detail, "/usr/bin/no-such-command");
  EXPECT_EQ(missing->ExitStatus(), 127);
}

}  // namespace
}  // namespace nsbuild::sandbox
