// The session above the scheduler (builder/session.h), run with fake
// runners and no processes, as ninja tests its Builder through a
// CommandRunner: several members share one pool, a failure in one stops the
// others and is blamed on the member that failed, a stop signal stops them
// all, and each named member's logs go to its own directory.
#include "builder/session.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "base/fs.h"
#include "base/unique_fd.h"
#include "builder/critical_path_run.h"
#include "builder/history.h"
#include "tests/support/files.h"
#include "tests/unit/fake_runner.h"

namespace nsbuild::testing {
namespace {

using builder::NodeState;

// A fresh log dir of this process, opened.
struct LogDir {
  explicit LogDir(const std::string& name)
      : path(::testing::TempDir() + "/session_" + name + "_" + std::to_string(::getpid())) {
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
    fd.reset(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  }
  ~LogDir() { std::filesystem::remove_all(path); }
  std::string path;
  base::UniqueFd fd;
};

// Two members of two implementations each, under one session.
struct Fixture {
  explicit Fixture(const std::string& name, int jobs = 2,
                   builder::FailureMode mode = builder::FailureMode::kFailFast)
      : logs(name),
        a_plan(ConfigureCompilePlan(2)),
        b_plan(ConfigureCompilePlan(2)),
        a(a_plan),
        b(b_plan) {
    options.jobs = jobs;
    options.failure_mode = mode;
    options.log_dir = logs.path;
    options.log_dir_fd = logs.fd.get();
    options.printer = &printer;
  }
  builder::SessionResult Run(std::vector<builder::SessionMember> members = {}) {
    if (members.empty()) members = {{"control", &a_plan, &a}, {"experiment", &b_plan, &b}};
    auto session = builder::Session::Open(options);
    EXPECT_TRUE(session.ok());
    if (before_run) before_run();
    auto r = (*session)->Run(members, configure);
    EXPECT_TRUE(r.ok());
    return r.ok() ? std::move(*r) : builder::SessionResult{};
  }
  LogDir logs;
  builder::Plan a_plan, b_plan;
  FakeRunner a, b;
  builder::NullStatusPrinter printer;
  builder::SessionOptions options;
  std::function<void()> before_run;
  std::function<void(builder::SchedulerOptions&, const builder::Plan&)> configure;
};

NodeState StateOf(const builder::SessionResult& r, const std::string& name) {
  for (const auto& n : r.plan.nodes) {
    if (r.plan.NameOf(n) == name) return r.summary.nodes[n.id].state;
  }
  ADD_FAILURE() << "no node " << name;
  return NodeState::kWaiting;
}

TEST(Session, AFailureInOneMemberStopsTheOthersAndIsBlamedOnIt) {
  Fixture f("failfast");
  // The second member fails; the first's long sub-phase is stopped by it.
  f.a.commands["impl0:configure"] = {5000, 0, ""};
  f.b.commands["impl1:configure"] = {5, 3, ""};
  auto r = f.Run();
  ASSERT_EQ(r.members.size(), 2u);
  EXPECT_FALSE(r.AllOk());
  EXPECT_EQ(r.interrupted_by, 0);
  EXPECT_EQ(StateOf(r, "control/impl0:configure"), NodeState::kStopped);
  EXPECT_EQ(StateOf(r, "experiment/impl1:configure"), NodeState::kFailed);
  EXPECT_FALSE(r.members[0].ok);
  EXPECT_FALSE(r.members[0].failed);
  EXPECT_TRUE(r.members[1].failed);
  EXPECT_EQ(r.members[1].error.rfind("experiment/impl1:configure: ", 0), 0u) << r.members[1].error;
  EXPECT_NE(r.members[1].error.find(f.logs.path + "/experiment/impl1-configure.log"),
            std::string::npos)
      << r.members[1].error;
  // Blamed on the member that failed, though the other comes first.
  ASSERT_NE(r.Culprit(), nullptr);
  EXPECT_EQ(r.Culprit()->name, "experiment");
}

TEST(Session, EveryMemberSucceedsAndEachNamedMemberLogsInItsOwnDir) {
  Fixture f("logs");
  f.a.commands["impl0:compile"] = {5, 0, "from control\n"};
  f.b.commands["impl0:compile"] = {5, 0, "from experiment\n"};
  auto r = f.Run();
  EXPECT_TRUE(r.AllOk());
  EXPECT_EQ(r.Culprit(), nullptr);
  EXPECT_EQ(r.plan.targets.front(), "control/impl0");
  EXPECT_EQ(r.members[1].first_node, f.a_plan.nodes.size());
  auto a = base::ReadFile(f.logs.path + "/control/impl0-compile.log");
  auto b = base::ReadFile(f.logs.path + "/experiment/impl0-compile.log");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->find("from control"), std::string::npos);
  EXPECT_NE(b->find("from experiment"), std::string::npos);
}

TEST(Session, ASetOfOneKeepsItsTargetNamesAndLogDir) {
  Fixture f("one");
  auto r = f.Run({{"", &f.a_plan, &f.a}});
  EXPECT_TRUE(r.AllOk());
  EXPECT_EQ(r.plan.targets, f.a_plan.targets);
  ASSERT_EQ(r.summary.nodes.size(), f.a_plan.nodes.size());
  EXPECT_EQ(r.summary.nodes[0].log_path, f.logs.path + "/impl0-configure.log");
  struct stat st;
  EXPECT_EQ(::stat((f.logs.path + "/impl0-configure.log").c_str(), &st), 0);
}

TEST(Session, OnePoolBoundsEveryMember) {
  Fixture f("pool", 1);
  int running = 0, peak = 0;
  auto count = [&] {
    running = f.a.running + f.b.running;
    peak = std::max(peak, running);
  };
  f.a.on_event = count;
  f.b.on_event = count;
  auto r = f.Run();
  EXPECT_TRUE(r.AllOk());
  EXPECT_EQ(peak, 1);
  EXPECT_EQ(f.a.started.size() + f.b.started.size(), f.a_plan.nodes.size() * 2);
}

TEST(Session, AStopSignalStopsEveryMember) {
  Fixture f("interrupt");
  f.a.commands["impl0:configure"] = {5000, 0, ""};
  f.b.commands["impl0:configure"] = {5000, 0, ""};
  // Once both long sub-phases run, as a Ctrl-C would come.
  f.b.on_start = [&](const builder::SubPhase&) { ::kill(::getpid(), SIGINT); };
  auto r = f.Run();
  EXPECT_EQ(r.interrupted_by, SIGINT);
  EXPECT_FALSE(r.AllOk());
  for (const auto& m : r.members) {
    EXPECT_FALSE(m.ok) << m.name;
    EXPECT_FALSE(m.failed) << m.name;
    EXPECT_EQ(m.error, "interrupted") << m.name;
  }
  EXPECT_EQ(StateOf(r, "control/impl0:configure"), NodeState::kStopped);
  EXPECT_EQ(StateOf(r, "experiment/impl0:configure"), NodeState::kStopped);
}

TEST(Session, ASignalWhileMembersArePreparedStartsNothing) {
  Fixture f("early");
  // Between Open and Run: where the callers copy sources.
  f.before_run = [] { ::kill(::getpid(), SIGTERM); };
  auto r = f.Run();
  EXPECT_EQ(r.interrupted_by, SIGTERM);
  EXPECT_TRUE(f.a.started.empty());
  EXPECT_TRUE(f.b.started.empty());
  EXPECT_EQ(r.Culprit(), &r.members[0]);
}

// verify's sets: the critical path is worked out on the combined plan, so
// the longest chain of any member starts first, and the set's times are
// kept under the members' names for the next run.
TEST(Session, TheLongestChainOfAnyMemberStartsFirst) {
  Fixture f("critical", 1);
  TempDir history_dir;
  base::UniqueFd dir(::open(history_dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  builder::History h;
  h.Record("r", "experiment/impl1", "compile", {40, 40});
  ASSERT_TRUE(h.Save(base::BorrowedFd(dir.get())).ok());
  std::vector<std::string> order;
  f.a.on_start = [&](const builder::SubPhase& n) {
    order.push_back("control/" + f.a_plan.NameOf(n));
  };
  f.b.on_start = [&](const builder::SubPhase& n) {
    order.push_back("experiment/" + f.b_plan.NameOf(n));
  };
  std::unique_ptr<builder::CriticalPathRun> critical;
  f.configure = [&](builder::SchedulerOptions& so, const builder::Plan& all) {
    critical = std::make_unique<builder::CriticalPathRun>(base::BorrowedFd(dir.get()), "r", all);
    critical->Configure(so);
  };
  auto r = f.Run();
  ASSERT_TRUE(r.AllOk());
  ASSERT_GE(order.size(), 2u);
  // One job: that member's whole chain first, before the plan's first node.
  EXPECT_EQ(order[0], "experiment/impl1:configure");
  EXPECT_EQ(order[1], "experiment/impl1:compile");
  ASSERT_NE(critical, nullptr);
  critical->Remember(r.plan, r.summary);
  builder::History back = builder::History::Load(base::BorrowedFd(dir.get()));
  EXPECT_NE(back.Find("r", "control/impl0", "compile"), nullptr);
  EXPECT_NE(back.Find("r", "experiment/impl1", "configure"), nullptr);
}

}  // namespace
}  // namespace nsbuild::testing
