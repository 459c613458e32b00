#include "builder/process_census.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <string>

namespace nsbuild::testing {
namespace {

// A child that names itself `root_name` and starts `children` grandchildren
// named `child_name`, all sleeping until killed (as one process group).
class Tree {
 public:
  Tree(const char* root_name, int children, const char* child_name, bool session = false) {
    int ready[2];
    EXPECT_EQ(::pipe(ready), 0);
    pid_ = ::fork();
    if (pid_ == 0) {
      if (session) {
        ::setsid();  // also a process group of its own
      } else {
        ::setpgid(0, 0);
      }
      ::prctl(PR_SET_NAME, root_name);
      for (int i = 0; i < children; ++i) {
        if (::fork() == 0) {
          ::prctl(PR_SET_NAME, child_name);
          (void)!::write(ready[1], "x", 1);
          for (;;) ::pause();
        }
      }
      (void)!::write(ready[1], "x", 1);
      for (;;) ::pause();
    }
    ::close(ready[1]);
    char b;
    for (int i = 0; i <= children; ++i) EXPECT_EQ(::read(ready[0], &b, 1), 1);
    ::close(ready[0]);
  }
  ~Tree() {
    ::kill(-pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

TEST(ProcessCensus, CountsTheTreeAndItsCompilers) {
  Tree t("fake-make", 3, "cc1");
  auto all = builder::ScanProcesses();
  auto tree = builder::ProcessTree(all, t.pid());
  EXPECT_EQ(tree.size(), 4u);
  EXPECT_EQ(tree.front(), t.pid());
  builder::ProcessCensus census({{}, 10, 0});
  census.Tick({{0, t.pid()}});
  builder::RunSummary s;
  census.Finish(s);
  EXPECT_EQ(s.peak_processes, 4);
  EXPECT_EQ(s.peak_compilers, 3);
}

TEST(ProcessCensus, PeakIsOverEverySubPhase) {
  Tree a("make", 2, "cc1plus"), b("ninja", 4, "cc1");
  builder::ProcessCensus census({{}, 10, 0});
  census.Tick({{0, a.pid()}, {1, b.pid()}});
  census.Tick({{1, b.pid()}});
  EXPECT_EQ(census.peak_processes(), 3 + 5);
  EXPECT_EQ(census.peak_compilers(), 6);
}

TEST(ProcessCensus, NicesAllButTheHighestPriority) {
  Tree low("low", 2, "cc1"), high("high", 2, "cc1");
  builder::ProcessCensus census({{1.0, 5.0}, 7, 0});
  census.Tick({{0, low.pid()}, {1, high.pid()}});
  auto all = builder::ScanProcesses();
  for (pid_t p : builder::ProcessTree(all, low.pid())) EXPECT_EQ(all[p].nice, 7) << p;
  for (pid_t p : builder::ProcessTree(all, high.pid())) EXPECT_EQ(all[p].nice, 0) << p;
}

// A sandbox is a session: with autogroups on, its group is niced too.
TEST(ProcessCensus, NicesTheSessionsAutogroup) {
  std::ifstream enabled("/proc/sys/kernel/sched_autogroup_enabled");
  int on = 0;
  if (!(enabled >> on) || !on) GTEST_SKIP() << "scheduler autogroups are off";
  Tree low("low", 1, "cc1", true), high("high", 1, "cc1", true);
  builder::ProcessCensus census({{1.0, 5.0}, 7, 0});
  std::string line;
  // The kernel takes one autogroup change per 100 ms machine-wide (EAGAIN
  // otherwise): the census tries again on its next turns, as here.
  for (int turn = 0; turn < 20 && line.find("nice 7") == std::string::npos; ++turn) {
    if (turn) ::usleep(50 * 1000);
    census.Tick({{0, low.pid()}, {1, high.pid()}});
    std::ifstream group("/proc/" + std::to_string(low.pid()) + "/autogroup");
    std::getline(group, line);
  }
  EXPECT_NE(line.find("nice 7"), std::string::npos) << line;
}

TEST(ProcessCensus, AloneNothingIsNiced) {
  Tree only("only", 1, "cc1");
  builder::ProcessCensus census({{1.0}, 7, 0});
  census.Tick({{0, only.pid()}});
  auto all = builder::ScanProcesses();
  for (pid_t p : builder::ProcessTree(all, only.pid())) EXPECT_EQ(all[p].nice, 0) << p;
}

TEST(ProcessCensus, CompilerNames) {
  EXPECT_TRUE(builder::IsCompiler("cc1"));
  EXPECT_TRUE(builder::IsCompiler("cc1plus"));
  EXPECT_TRUE(builder::IsCompiler("clang-14"));
  EXPECT_TRUE(builder::IsCompiler("rustc"));
  EXPECT_FALSE(builder::IsCompiler("gcc"));  // the driver, not the compiler
  EXPECT_FALSE(builder::IsCompiler("make"));
}

}  // namespace
}  // namespace nsbuild::testing
