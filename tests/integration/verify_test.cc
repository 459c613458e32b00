// nsbuild verify finds each kind of nondeterminism and names its cause; a
// reproducible package passes. Each case is a one-phase recipe whose install
// writes one file depending on one build condition.
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
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "tests/support/harness.h"

namespace nsbuild::testing {
namespace {

struct Verdict {
  std::unique_ptr<TempDir> dir;  // kept: the reports point into it
  CommandResult run;
  nlohmann::json report;
};

using Files = std::vector<std::pair<std::string, std::string>>;

nlohmann::json Recipe(const std::string& install, bool normalise_modes) {
  return {
      {"name", "fixture"},
      {"version", "1"},
      {"source", "src"},
      {"implementations", {"sh"}},
      {"define_implementations", {{"sh", {{"program", "/bin/sh"}}}}},
      {"phases",
       {{"install", "install -d -m 0755 $D/usr/share/fixture && " + install +
                        (normalise_modes ? " && chmod 0644 $D/usr/share/fixture/*" : "")}}},
  };
}

// Modes are normalised after the install command unless a test is about
// them, so each fixture differs in one way only. `files` go into the source.
Verdict Verify(const std::string& install, const std::string& variations = "+all",
               bool normalise_modes = true, const Files& files = {},
               const std::vector<std::string>& extra_args = {}) {
  Verdict v;
  v.dir = std::make_unique<TempDir>();
  const std::string& dir = v.dir->path();
  std::filesystem::create_directories(dir + "/src");
  std::ofstream(dir + "/src/README") << "fixture\n";
  for (const auto& [name, text] : files) {
    std::filesystem::create_directories(std::filesystem::path(dir + "/src/" + name).parent_path());
    std::ofstream(dir + "/src/" + name) << text;
  }
  std::ofstream(dir + "/recipe.json") << Recipe(install, normalise_modes).dump(2);
  std::vector<std::string> args = {"verify",   dir + "/recipe.json", "--variations",
                                   variations, "--work-dir",         dir + "/w",
                                   "--report", dir + "/verdict.json"};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  v.run = Nsbuild(args);
  std::ifstream in(dir + "/verdict.json");
  if (in) v.report = nlohmann::json::parse(in);
  return v;
}

// The causes named for usr/share/fixture/FILE.
std::vector<std::string> CausesOf(const Verdict& v, const std::string& file) {
  for (const auto& d : v.report.value("differences", nlohmann::json::array())) {
    if (d["path"] == "usr/share/fixture/" + file)
      return d["causes"].get<std::vector<std::string>>();
  }
  return {"(no difference reported)"};
}

TEST(Verify, AReproduciblePackagePasses) {
  auto v = Verify("echo constant > $D/usr/share/fixture/f");
  EXPECT_EQ(v.run.status, 0) << v.run.err;
  EXPECT_NE(v.run.out.find("reproducible: sh "), std::string::npos) << v.run.out;
  EXPECT_TRUE(v.report["reproducible"].get<bool>());
}

TEST(Verify, BuildPathIsNamed) {
  auto v = Verify("echo \"built in $S\" > $D/usr/share/fixture/path");
  EXPECT_EQ(v.run.status, 1) << v.run.err;
  EXPECT_EQ(CausesOf(v, "path"), std::vector<std::string>{"build_path"});
  // One line per cause; each path's details only with -v.
  EXPECT_NE(v.run.out.find("caused by build_path: 1 path(s), e.g. usr/share/fixture/path"),
            std::string::npos)
      << v.run.out;
  EXPECT_EQ(v.run.out.find("caused by: build_path"), std::string::npos) << v.run.out;
}

TEST(Verify, ManyPathsOfOneCauseAreOneLineAndDetailsComeWithVerbose) {
  std::string install;
  for (int i = 0; i < 12; ++i) install += "touch $D/usr/share/fixture/m" + std::to_string(i) + "; ";
  install += "true";
  // reprotest's spelling: --vary after the default +all, domain_host for hostname.
  auto v = Verify(install, "+all", false, {}, {"--vary=-all,+umask", "--vary=+domain_host"});
  EXPECT_EQ(v.run.status, 1) << v.run.err;
  EXPECT_EQ(v.report["varied"], (std::vector<std::string>{"umask", "hostname"}));
  EXPECT_NE(v.run.out.find("caused by umask: 12 path(s), e.g. usr/share/fixture/m0\n"),
            std::string::npos)
      << v.run.out;
  EXPECT_EQ(v.run.out.find("usr/share/fixture/m1"), std::string::npos) << v.run.out;
  auto verbose = Verify(install, "-all,+umask", false, {}, {"-v"});
  EXPECT_NE(verbose.run.out.find("  usr/share/fixture/m11: mode"), std::string::npos)
      << verbose.run.out;
}

// With the default work dir (./nsbuild-work/..., relative) every path handed
// to a sandbox is still absolute: diffoscope runs.
TEST(Verify, DefaultRelativeWorkDirStillRunsDiffoscope) {
  if (::access("/usr/bin/diffoscope", X_OK) != 0) GTEST_SKIP() << "diffoscope is not installed";
  TempDir dir;
  ::chmod(dir.path().c_str(), 0755);
  std::filesystem::create_directories(dir.path() + "/src");
  std::ofstream(dir.path() + "/src/README") << "fixture\n";
  std::ofstream(dir.path() + "/recipe.json")
      << Recipe("hostname > $D/usr/share/fixture/host", true).dump(2);
  auto r = RunCommand({"/bin/sh", "-c",
                       "cd \"$0\" && exec \"$1\" verify recipe.json --variations +hostname "
                       "--report verdict.json",
                       dir.path(), NsbuildBin()});
  EXPECT_EQ(r.status, 1) << r.err;
  std::ifstream in(dir.path() + "/verdict.json");
  auto report = nlohmann::json::parse(in);
  EXPECT_TRUE(report["diffoscope"]["used"].get<bool>()) << report.dump(2);
  EXPECT_EQ(report["diffoscope"]["note"], "") << report.dump(2);
  RunCommand({"chmod", "-R", "u+rwx", dir.path()});
}

TEST(Verify, HostnameIsNamed) {
  auto v = Verify("hostname > $D/usr/share/fixture/host");
  EXPECT_EQ(CausesOf(v, "host"), std::vector<std::string>{"hostname"});
}

TEST(Verify, UmaskDependentModeIsNamed) {
  auto v = Verify("touch $D/usr/share/fixture/mode", "+all", false);
  EXPECT_EQ(CausesOf(v, "mode"), std::vector<std::string>{"umask"});
}

// Every one-factor rebuild differs there too: that says nothing about the
// factors, so nondeterminism is the only cause.
TEST(Verify, DateIgnoringSourceDateEpochIsNondeterminism) {
  auto v = Verify("date +%s%N > $D/usr/share/fixture/stamp");
  EXPECT_EQ(CausesOf(v, "stamp"), std::vector<std::string>{"nondeterminism"});
}

TEST(Verify, RandomIdIsNondeterminism) {
  auto v = Verify("od -An -N8 -tx8 /dev/urandom > $D/usr/share/fixture/id");
  auto causes = CausesOf(v, "id");
  EXPECT_NE(std::find(causes.begin(), causes.end(), "nondeterminism"), causes.end());
}

TEST(Verify, CpuCountIsNamed) {
  auto v = Verify("nproc > $D/usr/share/fixture/cpus");
  if (v.report.contains("skipped") && v.report["skipped"].contains("num_cpus")) {
    GTEST_SKIP() << "one CPU here: " << v.report["skipped"]["num_cpus"];
  }
  EXPECT_EQ(CausesOf(v, "cpus"), std::vector<std::string>{"num_cpus"});
}

TEST(Verify, LocaleTimezoneAndKernelAreNamed) {
  auto v = Verify(
      "echo \"$TZ $LANG\" > $D/usr/share/fixture/env; uname -r > $D/usr/share/fixture/kernel");
  EXPECT_EQ(CausesOf(v, "kernel"), std::vector<std::string>{"kernel"});
  auto env = CausesOf(v, "env");
  EXPECT_NE(std::find(env.begin(), env.end(), "timezone"), env.end());
  EXPECT_NE(std::find(env.begin(), env.end(), "locales"), env.end());
}

// Every factor asked for is either varied or skipped with a reason.
TEST(Verify, EveryRequestedVariationIsVariedOrSkipped) {
  auto v = Verify("echo constant > $D/usr/share/fixture/f", "+fileordering,+time,+hostname");
  EXPECT_EQ(v.run.status, 0) << v.run.err;
  for (const std::string f : {"fileordering", "time", "hostname"}) {
    auto varied = v.report["varied"].get<std::vector<std::string>>();
    bool is_varied = std::find(varied.begin(), varied.end(), f) != varied.end();
    bool is_skipped = v.report["skipped"].contains(f);
    EXPECT_NE(is_varied, is_skipped) << f;
    if (is_skipped) {
      EXPECT_FALSE(v.report["skipped"][f].get<std::string>().empty());
      EXPECT_NE(v.run.out.find("skipped variation " + f + ": "), std::string::npos) << v.run.out;
    }
  }
  auto bad = Nsbuild({"verify", "/nonexistent.json", "--variations", "+all,-colour"});
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.err.find("unknown variation 'colour'"), std::string::npos) << bad.err;
}

// The skip reason, or "" when the factor was varied.
std::string SkipReason(const Verdict& v, const std::string& factor) {
  if (!v.report.contains("skipped") || !v.report["skipped"].contains(factor)) return "";
  return v.report["skipped"][factor].get<std::string>();
}

std::string MountInfo() { return Read("/proc/self/mountinfo"); }

// A build that concatenates its sources in readdir order (`ls -f`, no sort).
TEST(Verify, ReaddirOrderIsNamedFileordering) {
  Files parts;
  for (const char* name : {"delta", "alpha", "echo", "charlie", "bravo"}) {
    parts.emplace_back(std::string("parts/") + name, std::string(name) + "\n");
  }
  auto v = Verify(
      "for f in $(ls -f $S/parts | grep -v '^[.]'); do cat $S/parts/$f; done"
      " > $D/usr/share/fixture/joined",
      "+all", true, parts);
  if (std::string why = SkipReason(v, "fileordering"); !why.empty()) GTEST_SKIP() << why;
  EXPECT_EQ(v.run.status, 1) << v.run.err;
  EXPECT_EQ(CausesOf(v, "joined"), std::vector<std::string>{"fileordering"}) << v.run.out;
  // The views are gone once verify returns.
  EXPECT_EQ(MountInfo().find(v.dir->path()), std::string::npos) << MountInfo();
}

// `date` ignoring SOURCE_DATE_EPOCH: the day changes with the wall clock.
TEST(Verify, WallClockDateIsNamedTime) {
  // UTC: the timezone factor would move the date too.
  auto v = Verify("date -u +%Y-%m-%d > $D/usr/share/fixture/day");
  if (std::string why = SkipReason(v, "time"); !why.empty()) GTEST_SKIP() << why;
  EXPECT_EQ(v.run.status, 1) << v.run.err;
  EXPECT_EQ(CausesOf(v, "day"), std::vector<std::string>{"time"}) << v.run.out;
}

// The control and the experiment build at once, and so do the one-factor
// rebuilds: their recorded start/end intervals overlap, within one -j pool.
TEST(Verify, BuildsRunInParallelUnderOneJobPool) {
  auto v = Verify("sleep 0.5; hostname > $D/usr/share/fixture/host", "+hostname,+umask,+timezone",
                  true, {}, {"-j", "3"});
  ASSERT_EQ(v.run.status, 1) << v.run.err;
  std::map<std::string, nlohmann::json> builds;
  for (const auto& b : v.report["builds"]) builds[b["name"].get<std::string>()] = b;
  ASSERT_TRUE(builds.count("control") && builds.count("experiment-1")) << v.report.dump(2);
  auto overlap = [](const nlohmann::json& a, const nlohmann::json& b) {
    return a["start"].get<double>() < b["end"].get<double>() &&
           b["start"].get<double>() < a["end"].get<double>();
  };
  EXPECT_TRUE(overlap(builds["control"], builds["experiment-1"])) << v.report["builds"].dump(2);
  // Four attribution builds (control-2 and three factors) in three slots:
  // at least two of them run together.
  std::vector<nlohmann::json> probes;
  for (const auto& [name, b] : builds) {
    if (b["stage"] == "attribution") probes.push_back(b);
  }
  ASSERT_EQ(probes.size(), 4u);
  int overlapping = 0;
  for (size_t i = 0; i < probes.size(); ++i) {
    for (size_t j = i + 1; j < probes.size(); ++j) overlapping += overlap(probes[i], probes[j]);
  }
  EXPECT_GE(overlapping, 1) << v.report["builds"].dump(2);
  EXPECT_EQ(v.report["jobs"].get<int>(), 3);
  EXPECT_LE(v.report["peak_jobs_in_use"].get<int>(), 3);
  EXPECT_GE(v.report["peak_jobs_in_use"].get<int>(), 2);
  EXPECT_EQ(CausesOf(v, "host"), std::vector<std::string>{"hostname"});
}

TEST(Verify, DiffoscopeReportsAreProducedWhenInstalled) {
  if (::access("/usr/bin/diffoscope", X_OK) != 0) GTEST_SKIP() << "diffoscope is not installed";
  auto v = Verify("hostname > $D/usr/share/fixture/host", "+hostname", true, {}, {"-v"});
  ASSERT_EQ(v.run.status, 1) << v.run.err;
  ASSERT_EQ(v.report["differences"].size(), 1u) << v.report.dump(2);
  const auto& d = v.report["differences"][0];
  ASSERT_TRUE(d.contains("diffoscope")) << v.report.dump(2) << v.run.err;
  std::string content = Read(d["diffoscope"]["text"].get<std::string>());
  EXPECT_NE(content.find("nsbuild-experiment"), std::string::npos) << content;
  EXPECT_TRUE(std::filesystem::exists(d["diffoscope"]["html"].get<std::string>()));
  EXPECT_NE(v.run.out.find("diffoscope: " + d["diffoscope"]["text"].get<std::string>()),
            std::string::npos)
      << v.run.out;
}

bool ProcessWithArgExists(const std::string& needle) {
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    std::ifstream in(e.path().string() + "/cmdline");
    std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (cmdline.find(needle) != std::string::npos && cmdline.find("nsbuild") == std::string::npos)
      return true;
  }
  return false;
}

// The experiment fails while the control is still running: the control is
// stopped at once, and the message names the build that failed.
TEST(Verify, AFailedBuildStopsTheOthersAndIsNamed) {
  const std::string token = "4242.4141";
  auto v = Verify("if [ \"$(hostname)\" != nsbuild ]; then echo boom; exit 3; fi; sleep " + token,
                  "+hostname");
  EXPECT_EQ(v.run.status, 2) << v.run.err;
  EXPECT_NE(v.run.err.find("build experiment-1 failed: experiment-1/sh:install: exit status 3"),
            std::string::npos)
      << v.run.err;
  EXPECT_FALSE(ProcessWithArgExists(token));
  EXPECT_EQ(v.report["exit_status"].get<int>(), 2);
  EXPECT_TRUE(v.report["reproducible"].is_null());
  EXPECT_NE(v.report["error"].get<std::string>().find("experiment-1"), std::string::npos);
}

// nsbuild SIGKILLed mid-build: its sandboxes die with it (nothing can
// unmount then), and the next run over the same work dir detaches the view
// left behind and builds normally.
TEST(Verify, AKilledRunLeavesNoSandboxAndTheNextRunRecovers) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() + "/src");
  std::ofstream(dir.path() + "/src/README") << "fixture\n";
  const std::string token = "4242.5151";
  std::ofstream(dir.path() + "/recipe.json")
      << Recipe("touch $D/started; [ -e $S/stop ] || sleep " + token + "; echo same > $D/f", false)
             .dump(2);
  std::string bin = NsbuildBin(), recipe = dir.path() + "/recipe.json", work = dir.path() + "/w";
  std::vector<std::string> args = {
      bin,  "verify", recipe, "--work-dir",   work,
      "-j", "2",      "-q",   "--variations", "+fileordering,+hostname"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid;
  ASSERT_EQ(posix_spawn(&pid, bin.c_str(), nullptr, nullptr, argv.data(), environ), 0);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!std::filesystem::exists(work + "/experiment-1/targets/sh/image/started") &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(ProcessWithArgExists(token));
  ::kill(pid, SIGKILL);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  // The parent-death signal is asynchronous: give the kernel a moment.
  for (int i = 0; i < 100 && ProcessWithArgExists(token); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_FALSE(ProcessWithArgExists(token));
  std::ofstream(dir.path() + "/src/stop") << "\n";
  auto again = Nsbuild(
      {"verify", recipe, "--work-dir", work, "-q", "--variations", "+fileordering,+hostname"});
  EXPECT_EQ(again.status, 0) << again.err << again.out;
  EXPECT_EQ(MountInfo().find(work), std::string::npos) << MountInfo();
}

// Ctrl-C while the control and the experiment run: every sandbox stops, no
// disorderfs view stays mounted, the exit status says interrupted.
TEST(Verify, InterruptStopsEveryBuildAndUnmountsTheViews) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() + "/src");
  std::ofstream(dir.path() + "/src/README") << "fixture\n";
  const std::string token = "4242.3131";
  std::ofstream(dir.path() + "/recipe.json")
      << Recipe("touch $D/started; sleep " + token, false).dump(2);
  std::string bin = NsbuildBin(), recipe = dir.path() + "/recipe.json", work = dir.path() + "/w";
  std::vector<std::string> args = {bin, "verify", recipe, "--work-dir", work, "-j", "2", "-q"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid;
  ASSERT_EQ(posix_spawn(&pid, bin.c_str(), nullptr, nullptr, argv.data(), environ), 0);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  auto started = [&](const char* build) {
    return std::filesystem::exists(work + "/" + build + "/targets/sh/image/started");
  };
  while (!(started("control") && started("experiment-1")) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(ProcessWithArgExists(token));
  // Where the experiment's source is seen through disorderfs, it is mounted now.
  bool viewed = MountInfo().find(work + "/experiment-1/source-view") != std::string::npos;
  EXPECT_EQ(viewed, ::access("/usr/bin/disorderfs", X_OK) == 0 && IsRoot());
  ::kill(pid, SIGINT);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 128 + SIGINT);
  EXPECT_FALSE(ProcessWithArgExists(token));
  EXPECT_EQ(MountInfo().find(work), std::string::npos) << MountInfo();
}

}  // namespace
}  // namespace nsbuild::testing
