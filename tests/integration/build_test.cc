// nsbuild build end to end, with real sandboxes: bad input, the jobserver
// against real GNU make, token recovery after a kill, isolation between
// implementations, interrupts, and the C-extension example under each Python.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "tests/integration/build_util.h"
#include "tests/support/harness.h"

namespace nsbuild::testing {
namespace {

namespace fs = std::filesystem;

// A Makefile of `count` targets that each sleep and record, from inside
// the sandbox, when they ran.
std::string SleepMakefile(int count, const std::string& seconds) {
  std::string m = "T :=";
  for (int i = 0; i < count; ++i) m += " t" + std::to_string(i);
  m += "\nall: $(T)\n$(T):\n\t@echo \"$$(date +%s.%N) $$(sleep " + seconds +
       "; date +%s.%N)\" > $(OUT)/$@.times\n.PHONY: all $(T)\n";
  return m;
}

int CountTimes(const std::string& dir) {
  int n = 0;
  for (const auto& e : fs::directory_iterator(dir)) n += e.path().extension() == ".times";
  return n;
}

TEST(Build, TypoKeyIsNamedWithItsPath) {
  TempDir dir;
  Write(dir / "src/x", "");
  Write(dir / "r.json", ShellRecipe(R"({"compile": "true"})", R"(, "wrapp": [])"));
  auto r = Nsbuild({"build", dir / "r.json", "--work-dir", dir / "w"});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("$.wrapp: unknown key"), std::string::npos) << r.err;
}

TEST(Build, UninstalledImplementationListsWhatWasFound) {
  TempDir dir;
  Write(dir / "src/x", "");
  Write(dir / "r.json", R"({"name": "t", "version": "1", "source": "src",
      "implementations": ["python3.99"], "phases": {"compile": "true"}})");
  auto r = Nsbuild({"build", dir / "r.json", "--work-dir", dir / "w"});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("python3.99"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("found:"), std::string::npos) << r.err;
}

TEST(Build, MissingSourceIsBadInput) {
  TempDir dir;
  Write(dir / "r.json", ShellRecipe(R"({"compile": "true"})"));
  auto r = Nsbuild({"build", dir / "r.json", "--work-dir", dir / "w"});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find(dir / "src"), std::string::npos) << r.err;
}

TEST(Build, MissingCommandFailsWithItsLogAndNothingHandedOff) {
  TempDir dir;
  Write(dir / "src/x", "");
  Write(dir / "r.json", ShellRecipe(R"({"compile": "nsbuild-no-such-command --flag"})"));
  auto r = Nsbuild({"build", dir / "r.json", "--work-dir", dir / "w"});
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find("FAILED a:compile"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("nothing merged"), std::string::npos) << r.err;
  EXPECT_NE(Read(dir / "w/logs/a-compile.log").find("not found"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir / "w/images.txt"));
}

TEST(Build, TarballIsUnpackedOnceAndEntered) {
  TempDir dir;
  Write(dir / "pkg-1/hello.txt", "hello\n");
  ASSERT_EQ(RunCommand({"tar", "-czf", dir / "pkg-1.tar.gz", "-C", dir.path(), "pkg-1"}).status, 0);
  std::string recipe = ShellRecipe(
      R"({"compile": "test \"$(cat $S/hello.txt)\" = hello && echo $IMPL >> $S/hello.txt"})");
  recipe.replace(recipe.find("\"src\""), 5, "\"pkg-1.tar.gz\"");
  Write(dir / "r.json", recipe);
  auto r = Nsbuild({"build", dir / "r.json", "--work-dir", dir / "w"});
  ASSERT_EQ(r.status, 0) << r.err << Read(dir / "w/logs/a-compile.log");
  EXPECT_EQ(Read(dir / "w/source/pkg-1/hello.txt"), "hello\n");
  EXPECT_EQ(Read(dir / "w/targets/a/upper/hello.txt"), "hello\na\n");
}

TEST(Build, JobserverBoundsMakeAcrossImplementations) {
  for (int jobs : {2, 4}) {
    TempDir dir;
    Write(dir / "src/Makefile", SleepMakefile(10, "0.3"));
    Write(dir / "r.json", ShellRecipe(R"({"compile": "make OUT=$D"})"));
    auto r = Nsbuild({"build", dir / "r.json", "--work-dir", dir / "w", "-j", std::to_string(jobs),
                      "--report", dir / "report.json"});
    ASSERT_EQ(r.status, 0) << r.err;
    std::vector<std::string> images = {dir / "w/targets/a/image", dir / "w/targets/b/image"};
    ASSERT_EQ(CountTimes(images[0]) + CountTimes(images[1]), 20);
    int peak = PeakOverlap(images);
    EXPECT_LE(peak, jobs) << "-j" << jobs;
    // More than the two implicit slots: make really took tokens from the pool.
    if (jobs > 2) {
      EXPECT_GT(peak, 2);
    }
    EXPECT_EQ(Read(dir / "w/logs/a-compile.log").find("jobserver unavailable"), std::string::npos);
    auto report = nlohmann::json::parse(Read(dir / "report.json"));
    EXPECT_LE(report["jobserver"]["peak_tokens_in_use"].get<int>(), jobs);
  }
}

TEST(Build, FifoJobserverIsReachableInsideTheSandbox) {
  TempDir dir;
  Write(dir / "src/x", "");
  // What make >= 4.4 does with fifo:PATH, by hand: take a token, give it back.
  Write(
      dir / "r.json",
      ShellRecipe(
          R"({"compile": ["case $MAKEFLAGS in *--jobserver-auth=fifo:/nsbuild/jobserver*) ;; *) exit 9;; esac",
      "dd if=/nsbuild/jobserver bs=1 count=1 of=$D/token 2>/dev/null", "printf + > /nsbuild/jobserver"]})"));
  auto r = Nsbuild({"build", dir / "r.json", "--work-dir", dir / "w", "-j3", "--jobserver-fifo",
                    "--report", dir / "r.out"});
  ASSERT_EQ(r.status, 0) << r.err << Read(dir / "w/logs/a-compile.log");
  EXPECT_EQ(Read(dir / "w/targets/a/image/token"), "+");
  EXPECT_EQ(Read(dir / "w/targets/b/image/token"), "+");
  auto report = nlohmann::json::parse(Read(dir / "r.out"));
  EXPECT_EQ(report["jobserver"]["tokens_recovered"], 0);
  EXPECT_FALSE(fs::exists(dir / "w/jobserver"));  // every lease's fifo removed
}

TEST(Build, JobsOneRunsMakeSequentially) {
  TempDir dir;
  Write(dir / "src/Makefile", SleepMakefile(4, "0.1"));
  Write(dir / "r.json", ShellRecipe(R"({"compile": "make OUT=$D"})"));
  auto r = Nsbuild({"build", dir / "r.json", "--work-dir", dir / "w", "-j1"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(PeakOverlap({dir / "w/targets/a/image", dir / "w/targets/b/image"}), 1);
}

TEST(Build, KilledSubPhaseGivesItsTokensBack) {
  TempDir dir;
  // compile's make takes every token and is killed by the timeout; test
  // then runs (--keep-going) and must find the whole pool again.
  Write(dir / "src/Makefile",
        SleepMakefile(6, "0.4") + "hog: h1 h2 h3 h4\nh1 h2 h3 h4:\n\tsleep 60\n");
  Write(dir / "r.json", R"({"name": "t", "version": "1", "source": "src", "timeout": 3,
      "implementations": ["a"], "define_implementations": {"a": {"program": "/bin/sh"}},
      "phases": {"compile": "make hog", "test": "make OUT=$D"}})");
  auto r = Nsbuild({"build", dir / "r.json", "--work-dir", dir / "w", "-j3", "--keep-going",
                    "--report", dir / "report.json"});
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find("timed out"), std::string::npos) << r.err;
  auto report = nlohmann::json::parse(Read(dir / "report.json"));
  EXPECT_EQ(report["jobserver"]["tokens_recovered"].get<int>(), 2);
  EXPECT_EQ(report["sub_phases"][1]["state"], "ok");
  EXPECT_EQ(PeakOverlap({dir / "w/targets/a/image"}), 3);
}

TEST(Build, KilledMakesTokensComeBackWhileAnotherImplementationRuns) {
  TempDir dir;
  // With -j3, a's make gets the one token b's slot leaves, then is
  // SIGKILLed and a fails; b's make starts later and must find the whole
  // pool again (a shared pipe would have lost that token until the end).
  Write(dir / "src/Makefile", SleepMakefile(6, "0.4") + "hog: h1 h2 h3\nh1 h2 h3:\n\tsleep 60\n");
  std::string phases =
      R"({"compile": ["if [ $IMPL = a ]; then make hog & sleep 1; kill -9 $!; exit 1; fi",
                                       "sleep 3", "make OUT=$D"]})";
  Write(dir / "r.json", ShellRecipe(phases));
  auto r = Nsbuild(
      {"build", dir / "r.json", "--work-dir", dir / "w", "-j3", "--report", dir / "report.json"});
  EXPECT_EQ(r.status, 1) << r.err;
  auto report = nlohmann::json::parse(Read(dir / "report.json"));
  EXPECT_EQ(report["jobserver"]["tokens_recovered"].get<int>(), 1);
  EXPECT_EQ(CountTimes(dir / "w/targets/b/image"), 6);
  EXPECT_EQ(PeakOverlap({dir / "w/targets/b/image"}), 3);
}

TEST(Build, ImplementationsCannotSeeEachOther) {
  TempDir dir;
  Write(dir / "src/orig", "pristine\n");
  std::string work = dir / "w";
  // Each writes a mark everywhere it may write, waits, then looks for the
  // other's marks and for the host work dir.
  std::string phases = R"({
    "configure": "for d in $S $D $BUILD_DIR $T $HOME; do echo $IMPL > $d/mark-$IMPL; done; echo $IMPL > $S/orig",
    "compile": ["sleep 1", "other=a; [ $IMPL = a ] && other=b",
                "for d in $S $D $BUILD_DIR $T $HOME /tmp; do test ! -e $d/mark-$other || { echo LEAK $d/mark-$other; exit 1; }; done",
                "test \"$(cat $S/orig)\" = $IMPL", "test ! -e )" +
                       work + R"(", "! ls /nsbuild/../ | grep -v nsbuild | grep -q targets"]})";
  Write(dir / "r.json", ShellRecipe(phases));
  auto r = Nsbuild({"build", dir / "r.json", "--work-dir", work, "-j2"});
  ASSERT_EQ(r.status, 0) << r.err << Read(work + "/logs/a-compile.log")
                         << Read(work + "/logs/b-compile.log");
  EXPECT_EQ(Read(work + "/source/orig"), "pristine\n");
  EXPECT_FALSE(fs::exists(work + "/source/mark-a"));
  EXPECT_TRUE(fs::exists(work + "/targets/a/image/mark-a"));
  EXPECT_FALSE(fs::exists(work + "/targets/a/image/mark-b"));
  EXPECT_EQ(Read(work + "/targets/b/upper/orig"), "b\n");
}

bool ProcessWithArgExists(const std::string& needle) {
  for (const auto& e : fs::directory_iterator("/proc")) {
    std::string cmdline = Read(e.path().string() + "/cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (cmdline.find(needle) != std::string::npos && cmdline.find("nsbuild") == std::string::npos)
      return true;
  }
  return false;
}

TEST(Build, SigtermStopsEverySandboxAndMergesNothing) {
  TempDir dir;
  Write(dir / "src/x", "");
  const std::string token = "4242.1717";  // sleep's argument, to find strays
  Write(dir / "r.json", ShellRecipe(R"({"compile": "touch $D/started; sleep )" + token + R"("})"));
  std::string bin = NsbuildBin(), recipe = dir / "r.json", work = dir / "w";
  std::vector<char*> argv = {
      bin.data(),  const_cast<char*>("build"), recipe.data(), const_cast<char*>("--work-dir"),
      work.data(), const_cast<char*>("-q"),    nullptr};
  pid_t pid;
  ASSERT_EQ(posix_spawn(&pid, bin.c_str(), nullptr, nullptr, argv.data(), environ), 0);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!(fs::exists(work + "/targets/a/image/started") &&
           fs::exists(work + "/targets/b/image/started")) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(ProcessWithArgExists(token));
  ::kill(pid, SIGTERM);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 128 + SIGTERM);
  EXPECT_FALSE(ProcessWithArgExists(token));
  EXPECT_FALSE(fs::exists(work + "/images.txt"));
}

TEST(Build, FailFastStopsTheOtherImplementationAtOnce) {
  TempDir dir;
  Write(dir / "src/x", "");
  Write(dir / "r.json",
        ShellRecipe(
            R"({"compile": "if [ $IMPL = a ]; then sleep 0.3; exit 3; fi; sleep 4242.2323"})"));
  auto t0 = std::chrono::steady_clock::now();
  auto r = Nsbuild(
      {"build", dir / "r.json", "--work-dir", dir / "w", "--fail-fast", "--report", dir / "r.out"});
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_LT(secs, 10);
  EXPECT_FALSE(ProcessWithArgExists("4242.2323"));
  auto report = nlohmann::json::parse(Read(dir / "r.out"));
  EXPECT_EQ(report["sub_phases"][0]["state"], "failed");
  EXPECT_EQ(report["sub_phases"][0]["exit_status"], 3);
  EXPECT_EQ(report["sub_phases"][1]["state"], "stopped");
}

TEST(Build, ReportAndTraceDescribeTheRun) {
  TempDir dir;
  Write(dir / "src/x", "");
  Write(dir / "r.json", ShellRecipe(R"({"configure": "true", "install": "echo hi > $D/f"})",
                                    R"(, "all": {"install": "echo docs > $D/doc"})"));
  auto r = Nsbuild({"build", dir / "r.json", "--work-dir", dir / "w", "--report", dir / "r.out",
                    "--trace", dir / "t.out"});
  ASSERT_EQ(r.status, 0) << r.err;
  auto report = nlohmann::json::parse(Read(dir / "r.out"));
  EXPECT_EQ(report["result"], "ok");
  ASSERT_EQ(report["sub_phases"].size(), 5u);
  for (const auto& s : report["sub_phases"]) {
    EXPECT_EQ(s["exit_status"], 0);
    EXPECT_LE(s["start_seconds"].get<double>(), s["end_seconds"].get<double>());
    EXPECT_TRUE(s.contains("user_seconds") && s.contains("max_rss_kib"));
  }
  ASSERT_EQ(report["images"].size(), 3u);
  EXPECT_EQ(report["images"][0]["files"], 1);
  EXPECT_EQ(report["images"][0]["bytes"], 3);
  EXPECT_GT(report["builder_max_rss_kib"].get<int>(), 0);
  auto trace = nlohmann::json::parse(Read(dir / "t.out"));
  int complete = 0, threads = 0;
  for (const auto& e : trace["traceEvents"]) {
    complete += e["ph"] == "X";
    threads += e["name"] == "thread_name";
  }
  EXPECT_EQ(complete, 6);  // the sub-phases and the unpack (no --dest: no merge)
  EXPECT_EQ(threads, 4);   // the targets and nsbuild's own steps
  ASSERT_EQ(report["steps"].size(), 1u);
  EXPECT_EQ(report["steps"][0]["name"], "unpack");
  EXPECT_LE(report["steps"][0]["end_seconds"].get<double>(), 0.1);
}

TEST(Build, DryRunPrintsThePlanAndRunsNothing) {
  TempDir dir;
  Write(dir / "src/x", "");
  Write(dir / "r.json", ShellRecipe(R"({"configure": "touch /nsbuild/x", "compile": "make"})"));
  auto r = Nsbuild({"build", dir / "r.json", "--work-dir", dir / "w", "--dry-run"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("[1] a:compile after [0]"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(dir / "w"));
}

TEST(Build, ImplOptionIsRepeatableAndLeavesTheRecipeAlone) {
  TempDir dir;
  Write(dir / "src/x", "");
  Write(dir / "r.json", ShellRecipe(R"({"compile": "true"})"));
  auto r = Nsbuild({"build", "--impl", "b", dir / "r.json", "--dry-run"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.find("a:compile"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("b:compile"), std::string::npos) << r.out;
  r = Nsbuild({"build", dir / "r.json", "--impl", "c", "--dry-run"});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("--impl c: the recipe does not build for it"), std::string::npos) << r.err;
}

TEST(Build, ImplsListsUsablePythons) {
  auto r = Nsbuild({"impls", "--json"});
  ASSERT_EQ(r.status, 0) << r.err;
  auto list = nlohmann::json::parse(r.out);
  if (!fs::exists("/usr/bin/python3.11")) GTEST_SKIP() << "no python3.11 here";
  bool found = false;
  for (const auto& i : list) found = found || (i["name"] == "python3.11" && i["usable"] == true);
  EXPECT_TRUE(found) << r.out;
}

bool HasDevPython(const nlohmann::json& list, const std::string& name) {
  for (const auto& i : list) {
    if (i["name"] == name && i["usable"] == true && i["dev_headers"] == true) return true;
  }
  return false;
}

void ExpectImportable(const std::string& image, const std::string& impl, const std::string& want) {
  // Wherever the recipe's layout put it: the directory holding fastsum/.
  std::string site;
  for (const auto& e : fs::recursive_directory_iterator(image)) {
    if (e.path().filename() == "fastsum" && fs::exists(e.path() / "__init__.py")) {
      site = e.path().parent_path().string();
    }
  }
  ASSERT_FALSE(site.empty()) << "no fastsum package in " << image;
  auto r =
      RunCommand({"/usr/bin/" + impl, "-c",
                  "import fastsum; print(fastsum.built_for(), fastsum.sum_squares(range(10)))"},
                 {"PYTHONPATH=" + site});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, want + " 285\n");
}

void BuildCExtension(const std::string& recipe) {
  auto impls = nlohmann::json::parse(Nsbuild({"impls", "--json"}).out);
  if (!HasDevPython(impls, "python3.11") || !HasDevPython(impls, "pypy3")) {
    GTEST_SKIP() << "needs python3.11 and pypy3 with headers (python3-dev, pypy3-dev)";
  }
  TempDir dir;
  auto r = Nsbuild({"build", SourceDir() + "/examples/cext/" + recipe, "--work-dir", dir / "w",
                    "--impl", "python3.11", "--impl", "pypy3", "--report", dir / "r.json"});
  ASSERT_EQ(r.status, 0) << r.err;
  // A well-behaved package: every write was watched and none was outside.
  auto writes = nlohmann::json::parse(Read(dir / "r.json"))["writes"];
  EXPECT_EQ(writes["violations"], 0);
  EXPECT_GT(writes["notifications"].get<int>(), 0);
  ExpectImportable(dir / "w/targets/python3.11/image", "python3.11", "cpython 3.11");
  ExpectImportable(dir / "w/targets/pypy3/image", "pypy3", "pypy 3.9");
}

TEST(Build, CExtensionPep517ImportsUnderEachPython) { BuildCExtension("recipe.json"); }
TEST(Build, CExtensionSetupPyImportsUnderEachPython) { BuildCExtension("recipe-setuppy.json"); }

}  // namespace
}  // namespace nsbuild::testing
