#include "builder/diagnose.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

namespace nsbuild::builder {
namespace {

struct ShellRun {
  int status = -1;
  std::string output;  // stdout and stderr
};

// Runs the numbered script with the host's /bin/sh (the sandbox's is the
// same program), stderr folded into stdout as the phase log has it.
ShellRun RunNumbered(const std::string& command) {
  std::string script = NumberedScript(command);
  // One file per process: ctest runs these tests side by side.
  std::string path =
      ::testing::TempDir() + "/diagnose_script." + std::to_string(::getpid()) + ".sh";
  FILE* f = ::fopen(path.c_str(), "w");
  EXPECT_NE(f, nullptr);
  ::fputs(script.c_str(), f);
  ::fclose(f);
  ShellRun r;
  FILE* p = ::popen(("/bin/sh -c \"$(cat " + path + ")\" 2>&1").c_str(), "r");
  EXPECT_NE(p, nullptr);
  char buf[4096];
  size_t n;
  while ((n = ::fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  int st = ::pclose(p);
  ::unlink(path.c_str());
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

// The array form of a recipe: "set -e" then one line per entry.
std::string ArrayForm(std::initializer_list<const char*> lines) {
  std::string s = "set -e";
  for (const char* l : lines) s += std::string("\n") + l;
  return s;
}

TEST(NumberedScript, OneLineCommandIsUnchanged) {
  EXPECT_EQ(NumberedScript("make -j4 all"), "make -j4 all");
}

TEST(NumberedScript, NamesTheFailingEntryOfAnArray) {
  std::string cmd = ArrayForm({"echo one", "echo two", "exit 3", "echo four"});
  ShellRun r = RunNumbered(cmd);
  EXPECT_EQ(r.status, 3);
  EXPECT_NE(r.output.find("nsbuild: failed at line 3 (exit status 3)"), std::string::npos)
      << r.output;
  EXPECT_EQ(r.output.find("four"), std::string::npos);
  EXPECT_EQ(FailedLineOf(r.output), 3);
  EXPECT_EQ(DescribeFailedLine(cmd, 3), "line 3: exit 3");
}

TEST(NumberedScript, SuccessPrintsNothingAndKeepsStatus) {
  ShellRun r = RunNumbered(ArrayForm({"echo one", "true"}));
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.output, "one\n");
  EXPECT_EQ(FailedLineOf(r.output), 0);
}

TEST(NumberedScript, StringFormIsNumberedFromOne) {
  std::string cmd = "echo a\nfalse";
  ShellRun r = RunNumbered(cmd);
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(FailedLineOf(r.output), 2) << r.output;
  EXPECT_EQ(DescribeFailedLine(cmd, 2), "line 2: false");
  EXPECT_EQ(DescribeFailedLine(cmd, 9), "");
}

TEST(NumberedScript, HereDocumentBodiesAreLeftAlone) {
  std::string cmd =
      ArrayForm({"cat <<EOF", "body line", "EOF", "cat <<-'END'", "\tx", "\tEND", "false"});
  ShellRun r = RunNumbered(cmd);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("body line\nx\n"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("__nsb"), std::string::npos) << r.output;
  EXPECT_EQ(FailedLineOf(r.output), 7);
}

TEST(NumberedScript, CompoundCommandsQuotesAndContinuationsStayValid) {
  std::string cmd = ArrayForm({"if true; then", "  echo in", "else", "  echo no", "fi", "case x in",
                               "  x) echo case;;", "esac", "echo 'multi", "line'", "echo a \\",
                               "  b", "for i in 1 2; do", "  echo $i", "done", "echo x",
                               "false || echo rc=$?", "exit 4"});
  ShellRun r = RunNumbered(cmd);
  EXPECT_EQ(r.status, 4) << r.output;
  EXPECT_NE(r.output.find("in\ncase\nmulti\nline\na b\n1\n2\nx\nrc=1\n"), std::string::npos)
      << r.output;
  EXPECT_EQ(FailedLineOf(r.output), 18);
}

TEST(NumberedScript, AFunctionWhoseBraceIsOnTheNextLineStaysValid) {
  ShellRun r = RunNumbered(ArrayForm({"f()", "{", "  echo in f", "}", "f", "exit 2"}));
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("in f\n"), std::string::npos) << r.output;
  EXPECT_EQ(FailedLineOf(r.output), 6) << r.output;
}

TEST(NumberedScript, AFailureInsideABlockNamesTheLastMarkedLine) {
  ShellRun r = RunNumbered(ArrayForm({"echo a", "if true; then", "  false", "fi"}));
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(FailedLineOf(r.output), 3) << r.output;
}

TEST(FailedLineOf, TakesTheLastMarkerAndOnlyDigits) {
  EXPECT_EQ(FailedLineOf("nsbuild: failed at line 2 (x)\nnsbuild: failed at line 5 (y)"), 5);
  EXPECT_EQ(FailedLineOf("nsbuild: failed at line x"), 0);
  EXPECT_EQ(FailedLineOf("nsbuild: failed at line 99999999999999"), 0);
}

TEST(ShellChildSignal, NamesTheSignalBehind128PlusN) {
  EXPECT_EQ(ShellChildSignal(139), SIGSEGV);
  EXPECT_EQ(SignalName(ShellChildSignal(139)), "SIGSEGV");
  EXPECT_EQ(ShellChildSignal(137), SIGKILL);
  EXPECT_EQ(ShellChildSignal(1), 0);
  EXPECT_EQ(ShellChildSignal(127), 0);
  EXPECT_EQ(ShellChildSignal(128), 0);
  EXPECT_EQ(ShellChildSignal(255), 0);
}

TEST(FailureHints, NoSpaceNoexecAndNetwork) {
  FailureFacts f;
  f.phase = "compile";
  EXPECT_TRUE(FailureHints(f).empty());
  f.disk_full = true;
  ASSERT_EQ(FailureHints(f).size(), 1u);
  EXPECT_NE(FailureHints(f)[0].find("No space left on device"), std::string::npos);
  f.disk_full = false;
  f.log_tail = "ImportError: x.so: failed to map segment from shared object";
  EXPECT_TRUE(FailureHints(f).empty());  // not the policy's doing
  f.noexec_writable = true;
  ASSERT_EQ(FailureHints(f).size(), 1u);
  EXPECT_NE(FailureHints(f)[0].find("noexec"), std::string::npos);
  f.log_tail = "socket.gaierror: [Errno -3] Temporary failure in name resolution";
  EXPECT_TRUE(FailureHints(f).empty());
  f.no_network = true;
  ASSERT_EQ(FailureHints(f).size(), 1u);
  EXPECT_NE(FailureHints(f)[0].find("no network"), std::string::npos);
}

TEST(InstallPrefixHint, OnlyInstallUnderAPrefix) {
  std::vector<sandbox::WriteViolation> v(1);
  v[0].path = "/usr/local/lib/python3.11/site-packages/x.py";
  EXPECT_NE(InstallPrefixHint("install", v).find("DESTDIR=$D"), std::string::npos);
  EXPECT_EQ(InstallPrefixHint("compile", v), "");
  v[0].path = "/root/.cache/x";
  EXPECT_EQ(InstallPrefixHint("install", v), "");
}

TEST(LogHeader, NamesImplPhaseNumberedLinesAndView) {
  sandbox::Policy p;
  p.net = sandbox::NetMode::kNone;
  p.noexec_writable = true;
  sandbox::MountOp usr;
  usr.target = "/usr";
  p.ro_binds.push_back(usr);
  std::string view = DescribeView(p, {{"/var/cache/x", "why"}});
  EXPECT_EQ(view.find('\n'), std::string::npos);
  EXPECT_NE(view.find("read-only /usr"), std::string::npos) << view;
  EXPECT_NE(view.find("/var/cache/x (addwrite)"), std::string::npos) << view;
  EXPECT_NE(view.find("network: none"), std::string::npos) << view;
  std::string h = LogHeader("pypy3", "compile", ArrayForm({"make", "make check"}), view);
  EXPECT_EQ(h.rfind("nsbuild: implementation pypy3, phase compile\n", 0), 0u) << h;
  EXPECT_NE(h.find("nsbuild: 2| make check\n"), std::string::npos) << h;
  EXPECT_NE(h.find("nsbuild: view: "), std::string::npos) << h;
}

}  // namespace
}  // namespace nsbuild::builder
