#include "builder/critical_path.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "builder/history.h"
#include "builder/scheduler.h"
#include "tests/unit/fake_runner.h"

namespace nsbuild::testing {
namespace {

namespace fs = std::filesystem;
using builder::History;

TEST(History, RoundTripsAndSkipsGarbage) {
  History h = History::Parse(
      "# nsbuild history v1\n"
      "lxml py311 compile 53.5 60.25\n"
      "lxml pypy3 compile 26.2 27\n"
      "lxml py311 install nan 1\n"      // not a number
      "lxml py311 test -3 1\n"          // negative
      "lxml py311 configure 1 2 3\n"    // a field too many
      "lxml py311\n"                    // too few
      "\x01\xff garbage \x7f 1 1\n"     // names that do not print
      "lxml py311 compile 1e300 1\n");  // beyond any build
  EXPECT_EQ(h.size(), 2u);
  ASSERT_NE(h.Find("lxml", "py311", "compile"), nullptr);
  EXPECT_DOUBLE_EQ(h.Find("lxml", "py311", "compile")->wall_seconds, 53.5);
  EXPECT_DOUBLE_EQ(h.Find("lxml", "py311", "compile")->cpu_seconds, 60.25);
  EXPECT_EQ(h.Find("lxml", "py311", "install"), nullptr);
  History again = History::Parse(h.Serialize());
  EXPECT_EQ(again.Serialize(), h.Serialize());
}

TEST(History, BoundedEntries) {
  std::string text;
  for (size_t i = 0; i < History::kMaxEntries + 100; ++i)
    text += "r t" + std::to_string(i) + " compile 1 1\n";
  EXPECT_EQ(History::Parse(text).size(), History::kMaxEntries);
}

class HistoryFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("nsb-history-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    fd_.reset(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
  base::UniqueFd fd_;
};

TEST_F(HistoryFile, SavesAndLoads) {
  History h;
  h.Record("r", "a", "compile", {3.5, 7});
  ASSERT_TRUE(h.Save(base::BorrowedFd(fd_)).ok());
  History back = History::Load(base::BorrowedFd(fd_));
  ASSERT_NE(back.Find("r", "a", "compile"), nullptr);
  EXPECT_DOUBLE_EQ(back.Find("r", "a", "compile")->wall_seconds, 3.5);
  EXPECT_FALSE(fs::exists(dir_ / "history.tmp"));
}

TEST_F(HistoryFile, RefusesWhatOthersCanWriteOrASymlink) {
  History h;
  h.Record("r", "a", "compile", {3.5, 7});
  ASSERT_TRUE(h.Save(base::BorrowedFd(fd_)).ok());
  ::chmod((dir_ / "history").c_str(), 0666);
  EXPECT_EQ(History::Load(base::BorrowedFd(fd_)).size(), 0u);
  fs::rename(dir_ / "history", dir_ / "real");
  ::chmod((dir_ / "real").c_str(), 0644);
  fs::create_symlink(dir_ / "real", dir_ / "history");
  EXPECT_EQ(History::Load(base::BorrowedFd(fd_)).size(), 0u);
  fs::remove(dir_ / "history");
  ::mkfifo((dir_ / "history").c_str(), 0600);  // would block a plain open
  EXPECT_EQ(History::Load(base::BorrowedFd(fd_)).size(), 0u);
}

TEST(CriticalPath, PriorityIsTheLongestRemainingPath) {
  builder::Plan plan = ConfigureCompilePlan(2);  // impl0: configure → compile; impl1 the same
  History h;
  h.Record("r", "impl1", "compile", {50, 50});
  auto e = builder::Estimate(plan, h, "r");
  EXPECT_EQ(e.from_history, 1u);
  auto p = builder::Priorities(plan, e.seconds);
  double configure = builder::DefaultEstimate(0), compile = builder::DefaultEstimate(1);
  EXPECT_DOUBLE_EQ(p[0], configure + compile);  // impl0:configure
  EXPECT_DOUBLE_EQ(p[2], configure + 50);       // impl1:configure
  EXPECT_EQ(builder::StartOrder(p).front(), 2u);
}

TEST(CriticalPath, BoundIsCpuPerJobOrTheLongestChain) {
  builder::Plan plan = ConfigureCompilePlan(2);
  builder::RunSummary s;
  s.jobs = 2;
  s.wall_seconds = 12;
  s.nodes.resize(4);
  const double times[4][2] = {{0, 1}, {1, 3}, {0, 2}, {2, 10}};  // start, end
  for (size_t i = 0; i < 4; ++i) {
    s.nodes[i].state = builder::NodeState::kSucceeded;
    s.nodes[i].start = times[i][0];
    s.nodes[i].end = times[i][1];
    s.nodes[i].exit.user_seconds = times[i][1] - times[i][0];
  }
  auto b = builder::MeasureBound(plan, s);
  EXPECT_DOUBLE_EQ(b.cpu_seconds, 1 + 2 + 2 + 8);
  EXPECT_DOUBLE_EQ(b.chain_seconds, 10);
  EXPECT_EQ(b.chain, (std::vector<size_t>{2, 3}));
  EXPECT_DOUBLE_EQ(b.Seconds(), 10);
  EXPECT_NEAR(b.Efficiency(), 10.0 / 12, 1e-9);
  s.jobs = 1;
  EXPECT_DOUBLE_EQ(builder::MeasureBound(plan, s).Seconds(), 13);
  EXPECT_NE(builder::DescribeBound(plan, b).find("impl1:configure → impl1:compile"),
            std::string::npos);
}

struct PlanRun {
  explicit PlanRun(int impls, int jobs) : plan(ConfigureCompilePlan(impls)), runner(plan) {
    jobserver = std::move(builder::JobServer::Create(jobs)).value();
    runner.jobserver = jobserver.get();
  }
  builder::RunSummary Go(const History& h) {
    builder::SchedulerOptions opts;
    auto e = builder::Estimate(plan, h, "r");
    opts.start_order = builder::StartOrder(builder::Priorities(plan, e.seconds));
    return builder::Scheduler(plan, runner, *jobserver, status, opts).Run();
  }
  builder::Plan plan;
  FakeRunner runner;
  std::unique_ptr<builder::JobServer> jobserver;
  builder::NullStatusPrinter status;
};

TEST(CriticalPathScheduler, WithoutHistoryPlanOrder) {
  PlanRun r(3, 1);
  ASSERT_TRUE(r.Go(History()).AllSucceeded());
  EXPECT_EQ(r.runner.started.front(), "impl0:configure");
}

TEST(CriticalPathScheduler, LongestChainStartsFirst) {
  PlanRun r(3, 1);
  History h;
  h.Record("r", "impl2", "compile", {40, 40});
  h.Record("r", "impl1", "compile", {20, 20});
  ASSERT_TRUE(r.Go(h).AllSucceeded());
  // One job: the whole longest chain first, then the next longest.
  std::vector<std::string> want = {"impl2:configure", "impl2:compile",   "impl1:configure",
                                   "impl1:compile",   "impl0:configure", "impl0:compile"};
  EXPECT_EQ(r.runner.started, want);
}

TEST(CriticalPathScheduler, TwoJobsTakeTheTwoLongestChains) {
  PlanRun r(3, 2);
  History h;
  h.Record("r", "impl2", "compile", {40, 40});
  h.Record("r", "impl1", "compile", {20, 20});
  ASSERT_TRUE(r.Go(h).AllSucceeded());
  ASSERT_GE(r.runner.started.size(), 2u);
  std::vector<std::string> first(r.runner.started.begin(), r.runner.started.begin() + 2);
  EXPECT_EQ(first, (std::vector<std::string>{"impl2:configure", "impl1:configure"}));
  EXPECT_LE(r.runner.peak, 2);
}

TEST(CriticalPathScheduler, OrderNeverBreaksDependencies) {
  PlanRun r(2, 2);
  History h;
  h.Record("r", "impl0", "configure", {1, 1});
  h.Record("r", "impl0", "compile", {90, 90});  // its compile is the priority
  ASSERT_TRUE(r.Go(h).AllSucceeded());
  auto pos = [&](const std::string& n) {
    return std::find(r.runner.started.begin(), r.runner.started.end(), n) -
           r.runner.started.begin();
  };
  EXPECT_LT(pos("impl0:configure"), pos("impl0:compile"));
  EXPECT_LT(pos("impl1:configure"), pos("impl1:compile"));
  EXPECT_EQ(r.runner.started.front(), "impl0:configure");
}

}  // namespace
}  // namespace nsbuild::testing
