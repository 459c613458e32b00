// Writes outside a sub-phase's roots during `nsbuild build`: denied and
// reported per implementation and phase (stderr and the JSON report), failing
// the build or warning as the policy says; the recipe's addwrite places; and
// the notices about files left in the private HOME.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "tests/integration/build_util.h"
#include "tests/support/harness.h"

namespace nsbuild::testing {
namespace {

namespace fs = std::filesystem;

bool Has(const std::string& text, const std::string& what) {
  return text.find(what) != std::string::npos;
}

// A shipped policy file: where nsbuild under test finds it ($NSBUILD_POLICY_PATH
// in the unprivileged pass, else the source tree).
std::string ShippedPolicy(const std::string& name) {
  const char* env = std::getenv("NSBUILD_POLICY_PATH");
  std::string dir = env && *env ? std::string(env).substr(0, std::string(env).find(':'))
                                : SourceDir() + "/policies";
  return dir + "/" + name + ".json";
}

// Every denied write of the report, as "target phase op path".
std::vector<std::string> Denied(const nlohmann::json& report) {
  std::vector<std::string> out;
  for (const auto& s : report["sub_phases"]) {
    if (!s.contains("writes")) continue;
    for (const auto& v : s["writes"]["violations"]) {
      out.push_back(s["target"].get<std::string>() + " " + s["phase"].get<std::string>() + " " +
                    v["op"].get<std::string>() + " " + v["path"].get<std::string>());
    }
  }
  return out;
}

// Each shell write is allowed to fail (`|| true`): what the build reports
// must not depend on the package noticing.
constexpr const char* kStrayPhases =
    R"({"compile": "echo x > /usr/lib/nsbuild-stray || true; mkdir -p /etc/nsbuild-stray/sub || true",
        "install": "echo ok > $D/f"})";

std::string OneShellImplRecipe(const std::string& phases) {
  return R"({"name": "t", "version": "1", "source": "src", "implementations": ["a"],
      "define_implementations": {"a": {"program": "/bin/sh"}}, "phases": )" +
         phases + "}";
}

TEST(BuildWrites, StrayWritesAreDeniedReportedPerPhaseAndFailTheBuild) {
  TempDir dir;
  Write(dir / "src/x", "");
  Write(dir / "r.json", OneShellImplRecipe(kStrayPhases));
  auto r = Nsbuild({"build", dir / "r.json", "--work-dir", dir / "w", "--report", dir / "r.out"});
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_TRUE(Has(r.err, "ACCESS VIOLATION SUMMARY")) << r.err;
  EXPECT_TRUE(Has(r.err, "a compile: 2 write(s) outside the allowed roots")) << r.err;
  EXPECT_TRUE(Has(r.err, "/usr/lib/nsbuild-stray")) << r.err;
  EXPECT_TRUE(Has(r.err, "nothing merged")) << r.err;
  EXPECT_FALSE(fs::exists("/usr/lib/nsbuild-stray"));
  EXPECT_FALSE(fs::exists("/etc/nsbuild-stray"));
  auto report = nlohmann::json::parse(Read(dir / "r.out"));
  EXPECT_EQ(report["result"], "failed");
  EXPECT_EQ(Denied(report), (std::vector<std::string>{
                                "a compile openat(O_WRONLY|O_CREAT|O_TRUNC) /usr/lib/nsbuild-stray",
                                "a compile mkdir /etc/nsbuild-stray"}));
  EXPECT_EQ(report["writes"]["violations"], 2);
  EXPECT_EQ(report["writes"]["on_violation"], "fail");
  // The failing phase's log carries the block too, and install never ran.
  EXPECT_TRUE(Has(Read(dir / "w/logs/a-compile.log"), "/usr/lib/nsbuild-stray"));
  EXPECT_FALSE(fs::exists(dir / "w/logs/a-install.log"));
}

TEST(BuildWrites, WarnPolicyReportsButBuildsAndHandsOff) {
  TempDir dir;
  Write(dir / "src/x", "");
  Write(dir / "r.json", OneShellImplRecipe(kStrayPhases));
  // The policy's own "writes" object decides, here a copy of default that warns.
  auto policy = nlohmann::json::parse(Read(ShippedPolicy("default")));
  policy["writes"] = {{"watch", true}, {"on_violation", "warn"}};
  Write(dir / "warn.json", policy.dump());
  auto r = Nsbuild({"build", dir / "r.json", "--work-dir", dir / "w", "--policy", dir / "warn.json",
                    "--report", dir / "r.out"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(Has(r.err, "/etc/nsbuild-stray")) << r.err;
  EXPECT_TRUE(Has(r.err, "policy: warn")) << r.err;
  auto report = nlohmann::json::parse(Read(dir / "r.out"));
  EXPECT_EQ(report["result"], "ok");
  EXPECT_EQ(report["writes"]["violations"], 2);
  EXPECT_TRUE(fs::exists(dir / "w/targets/a/image/f"));
  // The command line wins over the policy.
  auto strict = Nsbuild({"build", dir / "r.json", "--work-dir", dir / "w", "--policy",
                         dir / "warn.json", "--on-write-violation", "fail"});
  EXPECT_EQ(strict.status, 1) << strict.err;
}

TEST(BuildWrites, LegitimateWritesAreNotReported) {
  TempDir dir;
  Write(dir / "src/x", "");
  Write(
      dir / "r.json",
      ShellRecipe(
          R"({"compile": "echo b > $BUILD_DIR/o && echo s > $S/gen.c && echo t > $T/t && mkdir -p $HOME/.config && echo tmp > /tmp/x && cat /etc/hostname > /dev/null && echo x > /dev/null",
          "install": "mkdir -p $D/usr/lib && cp $BUILD_DIR/o $D/usr/lib/o && chmod 0644 $D/usr/lib/o && ln -s o $D/usr/lib/l"})"));
  auto r = Nsbuild({"build", dir / "r.json", "--work-dir", dir / "w", "--report", dir / "r.out"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_FALSE(Has(r.err, "ACCESS VIOLATION")) << r.err;
  auto report = nlohmann::json::parse(Read(dir / "r.out"));
  EXPECT_TRUE(Denied(report).empty());
  EXPECT_TRUE(report["writes"]["watched"].get<bool>());
  // The watcher saw them: they were checked, not skipped.
  EXPECT_GE(report["writes"]["notifications"].get<int>(), 10);
}

TEST(BuildWrites, StaticBinaryInABuildIsCaughtWithItsCommand) {
  TempDir dir;
  Write(dir / "src/x", "");
  Write(dir / "w.c",
        "#include <fcntl.h>\n"
        "int main(void) { return open(\"/usr/lib/nsbuild-static-build\", O_WRONLY | O_CREAT, 0644) "
        "< 0 ? 0 : 1; }\n");
  auto cc = RunCommand({"cc", "-static", "-O1", "-o", dir / "src/stray-writer", dir / "w.c"});
  if (cc.status != 0) GTEST_SKIP() << "no static libc here: " << cc.err;
  Write(dir / "r.json", ShellRecipe(R"({"compile": "./stray-writer"})"));
  auto r = Nsbuild({"build", dir / "r.json", "--work-dir", dir / "w", "--report", dir / "r.out"});
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_TRUE(Has(r.err, "./stray-writer")) << r.err;  // the command line, not just a pid
  auto denied = Denied(nlohmann::json::parse(Read(dir / "r.out")));
  EXPECT_EQ(denied, (std::vector<std::string>{
                        "a compile openat(O_WRONLY|O_CREAT) /usr/lib/nsbuild-static-build",
                        "b compile openat(O_WRONLY|O_CREAT) /usr/lib/nsbuild-static-build"}));
}

TEST(BuildWrites, CaptureModeShowsWhatThePackageWouldHavePutOnTheHost) {
  TempDir dir;
  Write(dir / "src/x", "");
  Write(
      dir / "r.json",
      OneShellImplRecipe(
          R"({"install": "echo conf > /etc/nsbuild-build-cap.conf && cat /etc/hostname > /dev/null && echo ok > $D/f"})"));
  auto r = Nsbuild({"build", dir / "r.json", "--work-dir", dir / "w", "--report", dir / "r.out",
                    "--capture-writes", "--on-write-violation", "warn"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(Read(dir / "w/capture/a-install/etc/nsbuild-build-cap.conf"), "conf\n");
  EXPECT_FALSE(fs::exists("/etc/nsbuild-build-cap.conf"));
  EXPECT_TRUE(Has(r.err, "(captured)")) << r.err;
  EXPECT_TRUE(Has(r.err, "captured ones are in " + dir / "w/capture/a-install")) << r.err;
  auto report = nlohmann::json::parse(Read(dir / "r.out"));
  for (const auto& s : report["sub_phases"]) {
    if (s["phase"] != "install") continue;
    EXPECT_EQ(s["writes"]["capture_dir"], dir / "w/capture/a-install");
    ASSERT_EQ(s["writes"]["violations"].size(), 1u);
    EXPECT_TRUE(s["writes"]["violations"][0]["captured"].get<bool>());
  }
  // The flag needs the watcher.
  auto bad = Nsbuild(
      {"build", dir / "r.json", "--work-dir", dir / "w", "--capture-writes", "--no-watch-writes"});
  EXPECT_EQ(bad.status, 2);
  EXPECT_TRUE(Has(bad.err, "--capture-writes needs the write watcher")) << bad.err;
}

TEST(BuildWrites, AddwriteGivesAPrivateWritablePlaceAndIsListed) {
  TempDir dir;
  Write(dir / "src/x", "");
  Write(
      dir / "r.json",
      ShellRecipe(
          R"({"compile": "mkdir -p /var/cache/nsbuild-fc/sub && echo c > /var/cache/nsbuild-fc/sub/cache"})",
          R"(, "addwrite": [{"path": "/var/cache/nsbuild-fc/", "reason": "the font cache tool insists"}])"));
  auto r = Nsbuild({"build", dir / "r.json", "--work-dir", dir / "w", "--report", dir / "r.out"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_FALSE(fs::exists("/var/cache/nsbuild-fc"));
  auto report = nlohmann::json::parse(Read(dir / "r.out"));
  EXPECT_TRUE(Denied(report).empty());
  ASSERT_EQ(report["writes"]["addwrite"].size(), 1u);
  EXPECT_EQ(report["writes"]["addwrite"][0]["path"], "/var/cache/nsbuild-fc");
  EXPECT_EQ(report["writes"]["addwrite"][0]["reason"], "the font cache tool insists");
}

TEST(BuildWrites, AddwriteMistakesAreNamedWithTheirPath) {
  TempDir dir;
  Write(dir / "src/x", "");
  const std::pair<std::string, std::string> cases[] = {
      {R"([{"path": "var/cache", "reason": "r"}])", "$.addwrite[0].path: must be an absolute path"},
      {R"([{"path": "/proc/sys/kernel", "reason": "r"}])", "$.addwrite[0].path: may not be"},
      {R"([{"path": "/var/x", "reason": ""}])", "$.addwrite[0].reason: must say why"},
      {R"([{"path": "/var/x"}])", "$.addwrite[0].reason"},
      {R"([{"path": "/var/x", "reason": "r", "mode": 1}])", "$.addwrite[0].mode: unknown key"},
  };
  for (const auto& [addwrite, want] : cases) {
    Write(dir / "r.json", ShellRecipe(R"({"compile": "true"})", ", \"addwrite\": " + addwrite));
    auto r = Nsbuild({"build", dir / "r.json", "--work-dir", dir / "w"});
    EXPECT_EQ(r.status, 2) << addwrite;
    EXPECT_TRUE(Has(r.err, want)) << addwrite << ": " << r.err;
  }
}

TEST(BuildWrites, FilesLeftInHomeAreNotices) {
  TempDir dir;
  Write(dir / "src/x", "");
  Write(
      dir / "r.json",
      ShellRecipe(
          R"({"compile": "mkdir -p $HOME/.cache/tool/deep && echo 1234 > $HOME/.cache/tool/a && echo 5 > $HOME/.cache/tool/deep/b && touch $HOME/.netrc"})"));
  auto r = Nsbuild({"build", dir / "r.json", "--work-dir", dir / "w", "--report", dir / "r.out"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(Has(r.err,
                  "notice: a left 3 file(s) in its private HOME: .cache/tool (2 files, 1 KiB), "
                  ".netrc (1 file, 0 KiB)"))
      << r.err;
  auto home = nlohmann::json::parse(Read(dir / "r.out"))["writes"]["home_leftovers"];
  ASSERT_TRUE(home.contains("b"));
  EXPECT_EQ(home["b"][0]["path"], ".cache/tool");
  EXPECT_EQ(home["b"][0]["files"], 2);
  EXPECT_EQ(home["b"][0]["bytes"], 7);
}

TEST(BuildWrites, WatchingCanBeTurnedOffButTheMountsStillHold) {
  TempDir dir;
  Write(dir / "src/x", "");
  Write(dir / "r.json", ShellRecipe(kStrayPhases));
  auto r = Nsbuild({"build", dir / "r.json", "--work-dir", dir / "w", "--report", dir / "r.out",
                    "--no-watch-writes"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_FALSE(Has(r.err, "ACCESS VIOLATION")) << r.err;
  EXPECT_FALSE(fs::exists("/usr/lib/nsbuild-stray"));
  auto report = nlohmann::json::parse(Read(dir / "r.out"));
  EXPECT_FALSE(report["writes"]["watched"].get<bool>());
  EXPECT_FALSE(report["sub_phases"][0].contains("writes"));
}

}  // namespace
}  // namespace nsbuild::testing
