#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "builder/status_printer.h"

namespace nsbuild::builder {
namespace {

// Runs one sub-phase through a printer and returns what it printed.
std::string Print(int verbosity, bool tty, NodeState state) {
  char* buf = nullptr;
  size_t len = 0;
  std::FILE* out = open_memstream(&buf, &len);
  Plan plan;
  plan.targets = {"pypy3"};
  plan.nodes.resize(1);
  plan.nodes[0].phase = 1;
  NodeResult res;
  res.state = state;
  res.end = 1.5;
  res.error = state == NodeState::kFailed ? "exit status 2" : "";
  RunSummary summary;
  summary.nodes = {res};
  summary.jobs = 2;
  {
    auto status = MakeStatusPrinter(verbosity, tty, out);
    status->RunStarted(plan, 2);
    status->NodeStarted(plan.nodes[0]);
    status->NodeOutput(plan.nodes[0], "line one\nline t");
    status->NodeOutput(plan.nodes[0], "wo\n");
    status->Tick();
    status->NodeFinished(plan.nodes[0], res);
    status->RunFinished(summary);
  }
  std::fclose(out);
  std::string s(buf, len);
  std::free(buf);
  return s;
}

TEST(Status, PlainLinesWithoutTerminal) {
  std::string s = Print(0, false, NodeState::kSucceeded);
  EXPECT_NE(s.find("[0/1] pypy3:compile started\n"), std::string::npos) << s;
  EXPECT_NE(s.find("[1/1] pypy3:compile ok (1.5s)\n"), std::string::npos) << s;
  EXPECT_EQ(s.find("line one"), std::string::npos) << s;
  EXPECT_EQ(s.find('\r'), std::string::npos) << s;
}

TEST(Status, VerboseStreamsWholeLinesWithTheirSubPhase) {
  std::string s = Print(1, false, NodeState::kSucceeded);
  EXPECT_NE(s.find("pypy3:compile| line one\npypy3:compile| line two\n"), std::string::npos) << s;
}

TEST(Status, QuietPrintsOnlyFailures) {
  EXPECT_EQ(Print(-1, false, NodeState::kSucceeded), "");
  std::string s = Print(-1, false, NodeState::kFailed);
  EXPECT_NE(s.find("FAILED pypy3:compile: exit status 2"), std::string::npos) << s;
}

TEST(Status, TerminalRewritesOneLiveLine) {
  std::string s = Print(0, true, NodeState::kSucceeded);
  EXPECT_NE(s.find("\r\x1b[K[0/1] pypy3:compile 0.0s"), std::string::npos) << s;
  EXPECT_NE(s.find("pypy3:compile ok"), std::string::npos) << s;
}

// The live status line (carriage return, erase line) only where a terminal
// can show it: TERM=dumb and an unset TERM get the plain printer, and so
// does anything that is not a tty.
TEST(Status, LiveLineOnlyOnATerminalThatIsNotDumb) {
  int master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  ASSERT_GE(master, 0);
  ASSERT_EQ(::grantpt(master), 0);
  ASSERT_EQ(::unlockpt(master), 0);
  int pty = ::open(::ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
  ASSERT_GE(pty, 0);
  const char* old = std::getenv("TERM");
  std::string saved = old ? old : "";
  ::setenv("TERM", "xterm-256color", 1);
  EXPECT_TRUE(IsSmartTerminal(pty));
  ::setenv("TERM", "dumb", 1);
  EXPECT_FALSE(IsSmartTerminal(pty));
  ::unsetenv("TERM");
  EXPECT_FALSE(IsSmartTerminal(pty));
  ::setenv("TERM", "xterm", 1);
  int pipefd[2];
  ASSERT_EQ(::pipe2(pipefd, O_CLOEXEC), 0);
  EXPECT_FALSE(IsSmartTerminal(pipefd[1]));
  if (old)
    ::setenv("TERM", saved.c_str(), 1);
  else
    ::unsetenv("TERM");
  for (int fd : {pty, master, pipefd[0], pipefd[1]}) ::close(fd);
}

}  // namespace
}  // namespace nsbuild::builder
