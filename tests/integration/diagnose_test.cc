// Issue #14, items 7 and 8 end to end: what a failed sub-phase's message and
// log say (the failing line, the header, the signal behind 128+N, hints for
// prefixes and the network), the policy's kept environment inside the
// phases, one violation banner.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "tests/integration/build_util.h"
#include "tests/support/harness.h"

namespace nsbuild::testing {
namespace {

namespace fs = std::filesystem;

TEST(Diagnose, MultiLinePhaseNamesTheFailingLineAndTheLogHasAHeader) {
  TempDir dir;
  auto r = BuildShell(dir, R"({"compile": ["echo one", "test -e /nonexistent", "echo three"]})");
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find("failed at line 2: test -e /nonexistent"), std::string::npos) << r.err;
  std::string log = Read(dir / "w/logs/a-compile.log");
  EXPECT_EQ(log.rfind("nsbuild: implementation a, phase compile\n", 0), 0u) << log;
  EXPECT_NE(log.find("nsbuild: 2| test -e /nonexistent\n"), std::string::npos) << log;
  EXPECT_NE(log.find("nsbuild: view: read-only "), std::string::npos) << log;
  EXPECT_NE(log.find("network: loopback only"), std::string::npos) << log;
  EXPECT_EQ(log.find("\nthree\n"), std::string::npos) << log;  // listed, never run
}

TEST(Diagnose, ShellExit139NamesTheSignal) {
  TempDir dir;
  auto r =
      BuildShell(dir, R"({"compile": "sh -c 'kill -SEGV $$'"})", {"--report", dir / "r.json.out"});
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find("exit status 139: a process the phase ran was killed by SIGSEGV"),
            std::string::npos)
      << r.err;
  auto report = nlohmann::json::parse(Read(dir / "r.json.out"));
  const auto& sub = report["sub_phases"][0];
  EXPECT_EQ(sub["exit_status"], 139);
  EXPECT_EQ(sub["child_signal"], 11);
  EXPECT_EQ(sub["child_signal_name"], "SIGSEGV");
  EXPECT_FALSE(sub["diagnosis"].empty());
}

TEST(Diagnose, NameResolutionFailureSaysThereIsNoNetwork) {
  TempDir dir;
  // What pip prints when it cannot reach an index; the sandbox has no route.
  auto r = BuildShell(
      dir,
      R"({"compile": "getent hosts pypi.org || { echo 'socket.gaierror: [Errno -3] Temporary failure in name resolution' >&2; exit 1; }"})");
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find("the sandbox has no network"), std::string::npos) << r.err;
}

TEST(Diagnose, InstallUnderAPrefixIsToldToUseDestdir) {
  TempDir dir;
  auto r = BuildShell(
      dir, R"({"install": "mkdir -p /usr/local/share/t && echo x > /usr/local/share/t/f"})");
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find("DESTDIR=$D"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("allow a path with the recipe's \"addwrite\""), std::string::npos) << r.err;
}

TEST(Diagnose, AccessViolationSummaryIsPrintedOnce) {
  TempDir dir;
  auto r = BuildShell(dir, R"({"configure": "touch /nsbuild-denied-1 || true",
                          "compile": "touch /nsbuild-denied-2 || true"})",
                      {"--on-write-violation", "warn"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(Count(r.err, "ACCESS VIOLATION SUMMARY"), 1u) << r.err;
  EXPECT_NE(r.err.find("/nsbuild-denied-1"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("/nsbuild-denied-2"), std::string::npos) << r.err;
}

TEST(Diagnose, KeptLocaleVariablesReachThePhases) {
  TempDir dir;
  Write(dir / "src/x", "");
  Write(dir / "r.json",
        ShellRecipe(R"({"install": "echo \"$LANG $LC_ALL $LC_CTYPE\" > $D/locale"})"));
  // policies/default.json keeps LANG, LC_ALL and LC_CTYPE.
  auto r =
      RunCommand({NsbuildBin(), "build", dir / "r.json", "--work-dir", dir / "w", "--impl", "a"},
                 {"LANG=C.UTF-8", "LC_ALL=C", "LC_CTYPE=C.UTF-8"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(Read(dir / "w/targets/a/image/locale"), "C.UTF-8 C C.UTF-8\n");
}

// The unpack and the merge are in the report and the trace, the merge with
// its operations and what the preference order settled.
TEST(Steps, ReportAndTraceHaveTheUnpackAndTheMerge) {
  TempDir dir;
  Write(dir / "src/x", "");
  Write(dir / "r.json",
        ShellRecipe(R"({"install": "mkdir -p $D/usr/share/t && echo $IMPL > $D/usr/share/t/f"})"));
  auto r = Nsbuild({"build", dir / "r.json", "--work-dir", dir / "w", "--dest", dir / "dest",
                    "--report", dir / "report.out", "--trace", dir / "trace.out"});
  ASSERT_EQ(r.status, 0) << r.err;
  auto report = nlohmann::json::parse(Read(dir / "report.out"));
  ASSERT_EQ(report["steps"].size(), 2u) << report.dump(2);
  const auto& unpack = report["steps"][0];
  const auto& merge = report["steps"][1];
  EXPECT_EQ(unpack["name"], "unpack");
  EXPECT_LE(unpack["start_seconds"].get<double>(), unpack["end_seconds"].get<double>());
  EXPECT_EQ(merge["name"], "merge");
  EXPECT_TRUE(merge["merged"].get<bool>());
  EXPECT_GT(merge["operations"].get<int>(), 0);
  ASSERT_EQ(merge["preferred"].size(), 1u) << merge.dump(2);
  EXPECT_NE(merge["preferred"][0].get<std::string>().find("/usr/share/t/f"), std::string::npos);
  double last_end = 0;
  for (const auto& s : report["sub_phases"])
    last_end = std::max(last_end, s["end_seconds"].get<double>());
  EXPECT_GE(merge["start_seconds"].get<double>(), last_end);
  auto trace = nlohmann::json::parse(Read(dir / "trace.out"));
  std::vector<std::string> steps;
  for (const auto& e : trace["traceEvents"]) {
    if (e["ph"] != "X") continue;
    EXPECT_GE(e["ts"].get<int64_t>(), 0) << e.dump();
    if (e["ph"] == "X" && (e["name"] == "unpack" || e["name"] == "merge"))
      steps.push_back(e["name"]);
  }
  EXPECT_EQ(steps, (std::vector<std::string>{"unpack", "merge"}));
}

TEST(Diagnose, ModulesWhereTheImplementationDoesNotImportFromAreWarnedAbout) {
  if (::access("/usr/bin/pypy3", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/pypy3";
  TempDir dir;
  Write(dir / "src/x", "");
  Write(dir / "r.json", R"({"name": "t", "version": "1", "source": "src",
    "implementations": ["pypy3"],
    "phases": {"install": ["mkdir -p $D/usr/lib/pypy3.9/site-packages $D/usr/lib/python3/dist-packages",
                           "echo x = 1 > $D/usr/lib/pypy3.9/site-packages/lost.py",
                           "echo y = 1 > $D/usr/lib/python3/dist-packages/found.py"]}})");
  auto r = Nsbuild({"build", dir / "r.json", "--work-dir", dir / "w", "--report", dir / "r.out"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("pypy3 installed Python modules into /usr/lib/pypy3.9/site-packages, which "
                       "pypy3 does not import from"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("into /usr/lib/python3/dist-packages"), std::string::npos) << r.err;
  auto report = nlohmann::json::parse(Read(dir / "r.out"));
  EXPECT_EQ(report["warnings"].size(), 1u) << report.dump(2);
}

TEST(Diagnose, FailedToMapSegmentUnderNoexecIsExplained) {
  TempDir dir;
  // A shared object copied to a writable dir and loaded from there, as a C
  // extension built in $BUILD_DIR is by its tests.
  auto r = BuildShell(
      dir,
      R"({"compile": "cp /usr/lib/x86_64-linux-gnu/libz.so.1 $T/ && python3 -c \"import ctypes; ctypes.CDLL('$T/libz.so.1')\""})",
      {"--policy", "strict"});
  if (r.err.find("No such file") != std::string::npos) GTEST_SKIP() << "no libz here: " << r.err;
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find("failed to map segment"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("the policy mounts the writable dirs"), std::string::npos) << r.err;
}

// The phase's own error goes to /dev/null: the free space alone tells.
TEST(Diagnose, AFullWorkDirSaysNoSpaceLeft) {
  if (!IsRoot()) GTEST_SKIP() << "mounts a small tmpfs for the work dir";
  TempDir dir;
  Write(dir / "src/x", "");
  Write(dir / "r.json",
        ShellRecipe(
            R"({"compile": "dd if=/dev/zero of=$BUILD_DIR/big bs=64k count=64 2>/dev/null"})"));
  fs::create_directories(dir / "small");
  ASSERT_EQ(RunCommand({"mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", dir / "small"}).status,
            0);
  auto r = Nsbuild({"build", dir / "r.json", "--work-dir", dir / "small/w", "--impl", "a"});
  RunCommand({"umount", "-l", dir / "small"});
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find("No space left on device: the work dir's filesystem is full"),
            std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace nsbuild::testing
