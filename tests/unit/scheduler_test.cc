#include "builder/scheduler.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>

#include "base/fs.h"
#include "base/unique_fd.h"
#include "tests/support/files.h"
#include "tests/unit/fake_runner.h"

namespace nsbuild::testing {
namespace {

using builder::FailureMode;
using builder::NodeState;

struct Fixture {
  explicit Fixture(int impls, bool with_all = false, int jobs = 2)
      : plan(ImplsPlan(impls, true, with_all)), runner(plan), jobserver(TestJobServer(jobs)) {
    runner.jobserver = jobserver.get();
  }
  builder::RunSummary Run(builder::SchedulerOptions opts = {}) {
    builder::Scheduler s(plan, runner, *jobserver, status, opts);
    return s.Run();
  }
  NodeState StateOf(const builder::RunSummary& s, const std::string& name) {
    for (const auto& n : plan.nodes) {
      if (plan.NameOf(n) == name) return s.nodes[n.id].state;
    }
    ADD_FAILURE() << "no node " << name;
    return NodeState::kWaiting;
  }
  builder::Plan plan;
  FakeRunner runner;
  std::unique_ptr<builder::JobServer> jobserver;
  builder::NullStatusPrinter status;
};

size_t IndexOf(const std::vector<std::string>& v, const std::string& s) {
  return static_cast<size_t>(std::find(v.begin(), v.end(), s) - v.begin());
}

TEST(Scheduler, RunsInDependencyOrder) {
  Fixture f(3, true, 4);
  auto s = f.Run();
  ASSERT_TRUE(s.AllSucceeded());
  ASSERT_EQ(f.runner.started.size(), f.plan.nodes.size());
  for (const auto& node : f.plan.nodes) {
    for (size_t d : node.deps) {
      // A dependency finished before its dependent started.
      EXPECT_LT(IndexOf(f.runner.finished, f.plan.NameOf(f.plan.nodes[d])),
                IndexOf(f.runner.finished, f.plan.NameOf(node)));
      EXPECT_LE(s.nodes[d].end, s.nodes[node.id].start);
    }
  }
  EXPECT_EQ(f.runner.started.back(), "all:install");
}

TEST(Scheduler, NeverRunsMoreThanJobs) {
  for (int jobs : {1, 2, 3}) {
    Fixture f(6, false, jobs);
    for (const auto& n : f.plan.nodes) f.runner.commands[f.plan.NameOf(n)].duration_ms = 15;
    auto s = f.Run();
    EXPECT_TRUE(s.AllSucceeded());
    EXPECT_EQ(f.runner.peak, jobs) << "-j" << jobs;
    EXPECT_EQ(f.jobserver->Available(), jobs);
  }
}

TEST(Scheduler, JobsOneIsStrictlySequential) {
  Fixture f(3, true, 1);
  auto s = f.Run();
  ASSERT_TRUE(s.AllSucceeded());
  for (size_t i = 1; i < s.nodes.size(); ++i) {
    // Ordered by start time, each begins after the previous ended.
    std::vector<builder::NodeResult> by_start = s.nodes;
    std::sort(by_start.begin(), by_start.end(), [](auto& a, auto& b) { return a.start < b.start; });
    EXPECT_LE(by_start[i - 1].end, by_start[i].start);
  }
  EXPECT_EQ(f.runner.peak, 1);
}

TEST(Scheduler, FailureStopsOnlyItsTarget) {
  Fixture f(2, true, 2);
  nsbuild::testing::TempDir tmp;  // per test run: parallel runs never share logs
  const std::string& logs = tmp.path();
  f.runner.commands["impl0:compile"] = {5, 2, "cc: error: nope\n"};
  f.runner.commands["impl1:compile"] = {40, 0, ""};
  base::UniqueFd logs_fd(::open(logs.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  ASSERT_TRUE(logs_fd);
  builder::SchedulerOptions opts;
  opts.log_dir = logs;
  opts.log_dir_fd = logs_fd.get();
  auto s = f.Run(opts);
  EXPECT_FALSE(s.AllSucceeded());
  EXPECT_EQ(f.StateOf(s, "impl0:compile"), NodeState::kFailed);
  EXPECT_EQ(f.StateOf(s, "impl0:test"), NodeState::kSkipped);
  EXPECT_EQ(f.StateOf(s, "impl0:install"), NodeState::kSkipped);
  EXPECT_EQ(f.StateOf(s, "impl1:install"), NodeState::kSucceeded);
  EXPECT_EQ(f.StateOf(s, "all:install"), NodeState::kSkipped);
  auto log = base::ReadFile(logs + "/impl0-compile.log");
  ASSERT_TRUE(log.ok());
  EXPECT_NE(log->find("cc: error: nope"), std::string::npos);
  EXPECT_NE(log->find("exit status 2"), std::string::npos);
  EXPECT_EQ(builder::LogTail(logs + "/impl0-compile.log", 1), "nsbuild: exit status 2\n");
}

TEST(Scheduler, FailFastStopsEveryone) {
  Fixture f(2, false, 2);
  f.runner.commands["impl0:configure"] = {20, 1, ""};
  f.runner.commands["impl1:configure"] = {5000, 0, ""};
  builder::SchedulerOptions opts;
  opts.failure_mode = FailureMode::kFailFast;
  auto s = f.Run(opts);
  EXPECT_TRUE(s.fail_fast_stopped);
  EXPECT_EQ(f.StateOf(s, "impl0:configure"), NodeState::kFailed);
  EXPECT_EQ(f.StateOf(s, "impl1:configure"), NodeState::kStopped);
  EXPECT_EQ(f.StateOf(s, "impl1:compile"), NodeState::kWaiting);
  EXPECT_LT(s.wall_seconds, 2.0);
  EXPECT_EQ(f.runner.running, 0);
}

TEST(Scheduler, WithoutFailFastOthersFinish) {
  Fixture f(2, false, 2);
  f.runner.commands["impl0:configure"] = {5, 1, ""};
  f.runner.commands["impl1:configure"] = {60, 0, ""};
  auto s = f.Run();
  EXPECT_EQ(f.StateOf(s, "impl1:install"), NodeState::kSucceeded);
  EXPECT_EQ(f.StateOf(s, "impl0:compile"), NodeState::kSkipped);
}

TEST(Scheduler, KeepGoingRunsLaterPhasesOfFailedTarget) {
  Fixture f(2, true, 2);
  f.runner.commands["impl0:test"] = {5, 1, ""};
  builder::SchedulerOptions opts;
  opts.failure_mode = FailureMode::kKeepGoing;
  auto s = f.Run(opts);
  EXPECT_EQ(f.StateOf(s, "impl0:test"), NodeState::kFailed);
  EXPECT_EQ(f.StateOf(s, "impl0:install"), NodeState::kSucceeded);
  EXPECT_EQ(f.StateOf(s, "all:install"), NodeState::kSkipped);
  EXPECT_FALSE(s.AllSucceeded());
}

TEST(Scheduler, InterruptStopsRunningAndStartsNothingNew) {
  Fixture f(3, true, 2);
  auto stop = base::MakePipe(O_CLOEXEC);
  ASSERT_TRUE(stop.ok());
  for (const auto& n : f.plan.nodes) f.runner.commands[f.plan.NameOf(n)].duration_ms = 5000;
  f.runner.commands["impl0:configure"].duration_ms = 5;
  f.runner.on_start = [&](const builder::SubPhase& n) {
    if (f.plan.NameOf(n) == "impl0:compile") (void)!::write(stop->write.get(), "x", 1);
  };
  builder::SchedulerOptions opts;
  opts.stop_fd = stop->read.get();
  auto s = f.Run(opts);
  EXPECT_TRUE(s.interrupted);
  EXPECT_FALSE(s.AllSucceeded());
  EXPECT_EQ(f.StateOf(s, "impl0:configure"), NodeState::kSucceeded);
  EXPECT_EQ(f.StateOf(s, "impl0:compile"), NodeState::kStopped);
  EXPECT_EQ(f.StateOf(s, "impl0:test"), NodeState::kWaiting);
  EXPECT_EQ(f.runner.running, 0);
  EXPECT_LT(s.wall_seconds, 2.0);
  EXPECT_EQ(f.jobserver->Available(), 2);
}

TEST(Scheduler, KilledJobsTokensAreRecovered) {
  Fixture f(2, false, 5);
  // impl1 acts like a make holding two extra tokens when fail-fast kills it.
  f.runner.commands["impl0:configure"] = {30, 1, ""};
  f.runner.commands["impl1:configure"] = {5000, 0, "", 2};
  builder::SchedulerOptions opts;
  opts.failure_mode = FailureMode::kFailFast;
  auto s = f.Run(opts);
  EXPECT_EQ(f.StateOf(s, "impl1:configure"), NodeState::kStopped);
  EXPECT_EQ(s.tokens_recovered, 2);
  EXPECT_EQ(f.jobserver->Available(), 5);
  EXPECT_GE(s.peak_tokens_in_use, 4);
}

TEST(Scheduler, TokensGivenBackNormallyNeedNoRecovery) {
  Fixture f(2, false, 4);
  for (const auto& n : f.plan.nodes) f.runner.commands[f.plan.NameOf(n)] = {10, 0, "", 1};
  auto s = f.Run();
  EXPECT_TRUE(s.AllSucceeded());
  EXPECT_EQ(s.tokens_recovered, 0);
  EXPECT_EQ(f.jobserver->Available(), 4);
  EXPECT_LE(f.runner.peak + f.runner.peak_tokens, 4);
}

// A slot a finished sub-phase gives back goes to the next sub-phase before
// any lease is topped up: else a compiler launcher blocked on its lease
// takes it at once, and the next sub-phase of the chain waits for that
// compile to end.
TEST(Scheduler, AFreedSlotStartsTheNextSubPhaseBeforeAWaitingLauncherGetsIt) {
  Fixture f(2, false, 2);
  f.runner.commands["impl0:configure"].duration_ms = 1500;
  f.runner.commands["impl0:configure"].waits_for_slots = true;
  f.runner.commands["impl1:configure"].duration_ms = 10;
  // impl1 first: its lease's parked token is then taken back to start
  // impl0, whose launcher waits with nothing to read.
  builder::SchedulerOptions opts;
  for (const char* name : {"impl1:configure", "impl0:configure"}) {
    for (const auto& n : f.plan.nodes)
      if (f.plan.NameOf(n) == name) opts.start_order.push_back(n.id);
  }
  for (const auto& n : f.plan.nodes) {
    if (std::find(opts.start_order.begin(), opts.start_order.end(), n.id) == opts.start_order.end())
      opts.start_order.push_back(n.id);
  }
  auto s = f.Run(opts);
  ASSERT_TRUE(s.AllSucceeded());
  // impl1's whole chain ran beside the long configure, not after it.
  EXPECT_LT(IndexOf(f.runner.finished, "impl1:install"),
            IndexOf(f.runner.finished, "impl0:configure"));
  EXPECT_EQ(f.jobserver->Available(), 2);
}

TEST(Scheduler, LoadAverageHoldsBackNewSubPhasesButOneAlwaysRuns) {
  Fixture f(3, false, 3);
  builder::SchedulerOptions opts;
  opts.load_average = 1.5;
  double load = 9.0;
  opts.load_probe = [&] { return load; };
  auto s = f.Run(opts);
  EXPECT_TRUE(s.AllSucceeded());
  EXPECT_EQ(f.runner.peak, 1);  // overloaded: one at a time, never stalled
  Fixture g(3, false, 3);
  for (const auto& n : g.plan.nodes) g.runner.commands[g.plan.NameOf(n)].duration_ms = 15;
  load = 0.5;
  s = g.Run(opts);
  EXPECT_EQ(g.runner.peak, 3);
}

TEST(Scheduler, TimeoutKillsAndFails) {
  Fixture f(1, false, 1);
  f.runner.commands["impl0:configure"] = {5000, 0, ""};
  builder::SchedulerOptions opts;
  opts.timeout_seconds = 0.2;
  auto s = f.Run(opts);
  EXPECT_EQ(f.StateOf(s, "impl0:configure"), NodeState::kFailed);
  EXPECT_TRUE(s.nodes[0].timed_out);
  EXPECT_LT(s.wall_seconds, 2.0);
}

TEST(Scheduler, StartFailureFailsTheSubPhase) {
  Fixture f(1, false, 1);
  f.runner.fail_to_start = true;
  auto s = f.Run();
  EXPECT_EQ(f.StateOf(s, "impl0:configure"), NodeState::kFailed);
  EXPECT_NE(s.nodes[0].error.find("cannot start"), std::string::npos);
  EXPECT_EQ(f.StateOf(s, "impl0:install"), NodeState::kSkipped);
}

}  // namespace
}  // namespace nsbuild::testing
