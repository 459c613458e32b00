// nsbuild verify finds each kind of nondeterminism and names its cause; a
// reproducible package passes. Each case is a one-phase recipe whose install
// writes one file depending on one build condition.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/integration/harness.h"

namespace nsbuild::testing {
namespace {

struct Verdict {
  CommandResult run;
  nlohmann::json report;
};

// Modes are normalised after the install command unless a test is about
// them, so each fixture differs in one way only.
Verdict Verify(const std::string& install, const std::string& variations = "+all",
               bool normalise_modes = true) {
  ScratchDir dir;
  std::filesystem::create_directories(dir.path() + "/src");
  std::ofstream(dir.path() + "/src/README") << "fixture\n";
  nlohmann::json recipe = {
      {"name", "fixture"},
      {"version", "1"},
      {"source", "src"},
      {"implementations", {"sh"}},
      {"define_implementations", {{"sh", {{"program", "/bin/sh"}}}}},
      {"phases",
       {{"install", "install -d -m 0755 $D/usr/share/fixture && " + install +
                        (normalise_modes ? " && chmod 0644 $D/usr/share/fixture/*" : "")}}},
  };
  std::ofstream(dir.path() + "/recipe.json") << recipe.dump(2);
  Verdict v;
  v.run = Nsbuild({"verify", dir.path() + "/recipe.json", "--variations", variations, "--work-dir",
                   dir.path() + "/w", "--report", dir.path() + "/verdict.json"});
  std::ifstream in(dir.path() + "/verdict.json");
  if (in) v.report = nlohmann::json::parse(in);
  return v;
}

// The causes named for usr/share/fixture/FILE.
std::vector<std::string> CausesOf(const Verdict& v, const std::string& file) {
  for (const auto& d : v.report.value("differences", nlohmann::json::array())) {
    if (d["path"] == "usr/share/fixture/" + file) return d["causes"].get<std::vector<std::string>>();
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
  EXPECT_NE(v.run.out.find("caused by: build_path"), std::string::npos) << v.run.out;
}

TEST(Verify, HostnameIsNamed) {
  auto v = Verify("hostname > $D/usr/share/fixture/host");
  EXPECT_EQ(CausesOf(v, "host"), std::vector<std::string>{"hostname"});
}

TEST(Verify, UmaskDependentModeIsNamed) {
  auto v = Verify("touch $D/usr/share/fixture/mode", "+all", false);
  EXPECT_EQ(CausesOf(v, "mode"), std::vector<std::string>{"umask"});
}

TEST(Verify, DateIgnoringSourceDateEpochIsNondeterminism) {
  auto v = Verify("date +%s%N > $D/usr/share/fixture/stamp");
  auto causes = CausesOf(v, "stamp");
  EXPECT_NE(std::find(causes.begin(), causes.end(), "nondeterminism"), causes.end());
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
  auto v = Verify("echo \"$TZ $LANG\" > $D/usr/share/fixture/env; uname -r > $D/usr/share/fixture/kernel");
  EXPECT_EQ(CausesOf(v, "kernel"), std::vector<std::string>{"kernel"});
  auto env = CausesOf(v, "env");
  EXPECT_NE(std::find(env.begin(), env.end(), "timezone"), env.end());
  EXPECT_NE(std::find(env.begin(), env.end(), "locales"), env.end());
}

TEST(Verify, UnavailableVariationsAreReportedAsSkipped) {
  auto v = Verify("echo constant > $D/usr/share/fixture/f", "+fileordering,+time,+hostname");
  EXPECT_EQ(v.run.status, 0) << v.run.err;
  EXPECT_NE(v.run.out.find("skipped variation fileordering"), std::string::npos) << v.run.out;
  EXPECT_NE(v.run.out.find("skipped variation time"), std::string::npos);
  auto bad = Nsbuild({"verify", "/nonexistent.json", "--variations", "+all,-colour"});
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.err.find("unknown variation 'colour'"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace nsbuild::testing
