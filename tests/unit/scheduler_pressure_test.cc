// The scheduler and the real JobServer under pressure: many more sub-phases
// than slots, makes that take tokens, clients that misbehave (write tokens
// they never took, die holding tokens, get killed). At every event of the
// fake runner the invariant is checked: sub-phases running plus tokens held
// by their makes never exceed -j, and the server never believes more slots
// are free than really are.
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "builder/scheduler.h"
#include "tests/unit/fake_runner.h"

namespace nsbuild::testing {
namespace {

using builder::FailureMode;

struct Pressure {
  Pressure(int impls, int jobs)
      : plan(ImplsPlan(impls, false, true)), runner(plan), jobs(jobs), server(TestJobServer(jobs)) {
    runner.jobserver = server.get();
    runner.on_event = [this] { Check(); };
  }
  void Check() {
    ++events;
    int used = runner.running + runner.tokens_held;
    peak_used = std::max(peak_used, used);
    if (used > jobs) {
      ++violations;
      ADD_FAILURE() << "event " << events << ": " << runner.running << " running + "
                    << runner.tokens_held << " tokens held > -j" << jobs;
    }
    if (server->Available() > jobs - used || server->Available() < 0) {
      ++violations;
      ADD_FAILURE() << "event " << events << ": server says " << server->Available()
                    << " free with " << used << " of " << jobs << " in use";
    }
  }
  builder::RunSummary Run(builder::SchedulerOptions opts = {}) {
    builder::Scheduler s(plan, runner, *server, status, opts);
    return s.Run();
  }
  void ForAll(FakeCommand c) {
    for (const auto& n : plan.nodes) runner.commands[plan.NameOf(n)] = c;
  }
  builder::Plan plan;
  FakeRunner runner;
  int jobs;
  std::unique_ptr<builder::JobServer> server;
  builder::NullStatusPrinter status;
  int events = 0, peak_used = 0, violations = 0;
};

TEST(SchedulerPressure, ManyMoreTargetsThanSlotsNeverExceedJobs) {
  for (int jobs : {1, 2, 3, 5}) {
    Pressure p(9, jobs);
    p.ForAll({4, 0, "", 0});
    auto s = p.Run();
    EXPECT_TRUE(s.AllSucceeded()) << "-j" << jobs;
    EXPECT_EQ(p.runner.peak, jobs) << "-j" << jobs;  // the slots are used, too
    EXPECT_EQ(p.runner.started.size(), p.plan.nodes.size());
    EXPECT_EQ(p.server->Available(), jobs);
    EXPECT_EQ(p.violations, 0);
  }
}

TEST(SchedulerPressure, MakesTakingTokensShareTheSlots) {
  for (int jobs : {2, 4, 7}) {
    Pressure p(8, jobs);
    p.ForAll({6, 0, "", 3});
    auto s = p.Run();
    EXPECT_TRUE(s.AllSucceeded());
    EXPECT_EQ(p.violations, 0) << "-j" << jobs;
    EXPECT_GT(p.runner.peak_tokens, 0) << "no make ever got a token at -j" << jobs;
    EXPECT_EQ(p.server->Available(), jobs);
    EXPECT_EQ(s.tokens_recovered, 0);
  }
}

TEST(SchedulerPressure, InventedTokensAreNotCounted) {
  // Every client writes two tokens it never read: the pool must not grow.
  // (A client that also holds tokens cannot be told apart from one giving
  // them back: bytes in a pipe carry no owner.)
  Pressure p(8, 3);
  p.ForAll({5, 0, "", 0});
  for (const auto& n : p.plan.nodes) p.runner.commands[p.plan.NameOf(n)].write_untaken = 2;
  auto s = p.Run();
  EXPECT_TRUE(s.AllSucceeded());
  EXPECT_EQ(p.violations, 0);
  EXPECT_LE(p.runner.peak, 3);
  EXPECT_LE(s.peak_tokens_in_use, 3);
  EXPECT_EQ(p.server->Available(), 3);
}

TEST(SchedulerPressure, MakesThatDieHoldingTokensLoseNothing) {
  Pressure p(8, 4);
  p.ForAll({5, 0, "", 2});
  for (const auto& n : p.plan.nodes) p.runner.commands[p.plan.NameOf(n)].lose_tokens = true;
  auto s = p.Run();
  EXPECT_TRUE(s.AllSucceeded());
  EXPECT_EQ(p.violations, 0);
  EXPECT_GT(s.tokens_recovered, 0);
  EXPECT_EQ(p.server->Available(), 4);
}

TEST(SchedulerPressure, FailFastKillsHoldersAndEveryTokenComesHome) {
  Pressure p(8, 4);
  p.ForAll({200, 0, "", 2});
  p.runner.commands["impl0:configure"] = {10, 1, "", 1};
  builder::SchedulerOptions opts;
  opts.failure_mode = FailureMode::kFailFast;
  auto s = p.Run(opts);
  EXPECT_FALSE(s.AllSucceeded());
  EXPECT_EQ(p.violations, 0);
  EXPECT_EQ(p.server->Available(), 4);
  EXPECT_EQ(p.runner.running, 0);
  EXPECT_EQ(p.runner.tokens_held, 0);
}

TEST(JobServerPressure, ClientsWritingTokensTheyNeverTookDoNotGrowThePool) {
  auto js = builder::JobServer::Create(2);
  ASSERT_TRUE(js.ok());
  auto lease = (*js)->OpenLease();
  ASSERT_TRUE(lease.ok());
  ASSERT_EQ(::write((*lease)->write_fd(), "+++++", 5), 5);  // never read any
  for (int i = 0; i < 4; ++i) {
    (*js)->Balance();
    EXPECT_LE((*js)->Available(), 2);
    EXPECT_LE((*lease)->out(), 2);
  }
  builder::Token a = (*js)->TryAcquire();
  builder::Token b = (*js)->TryAcquire();
  builder::Token c = (*js)->TryAcquire();
  EXPECT_TRUE(a.valid());
  EXPECT_TRUE(b.valid());
  EXPECT_FALSE(c.valid()) << "a third slot out of a pool of two";
  lease->reset();
  a.Release();
  b.Release();
  EXPECT_EQ((*js)->Available(), 2);
}

TEST(JobServerPressure, ManyLeasesNeverHandOutMoreThanJobs) {
  auto js = builder::JobServer::Create(3);
  ASSERT_TRUE(js.ok());
  std::vector<std::unique_ptr<builder::Lease>> leases;
  for (int i = 0; i < 6; ++i) {
    auto l = (*js)->OpenLease();
    ASSERT_TRUE(l.ok());
    leases.push_back(std::move(*l));
  }
  int held = 0;
  for (int round = 0; round < 10; ++round) {
    (*js)->Balance();
    for (auto& l : leases) {
      char b;
      if (l->Idle() > 0 && ::read(l->read_fd(), &b, 1) == 1) ++held;
      int idle = 0;
      for (auto& m : leases) idle += m->Idle();
      ASSERT_LE(held + idle, 3) << "round " << round;
      ASSERT_EQ((*js)->Available() + held + idle, 3) << "round " << round;
    }
  }
  EXPECT_EQ(held, 3);
  leases.clear();  // the makes die holding all of them
  EXPECT_EQ((*js)->recovered(), 3);
  EXPECT_EQ((*js)->Available(), 3);
}

}  // namespace
}  // namespace nsbuild::testing
