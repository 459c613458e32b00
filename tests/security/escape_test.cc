// The escape suite: every attack class of attacks.cc run two ways, each
// asserting from outside (and from what the attacker saw) that nothing
// escaped:
//   Attack/Escape.InRun/NAME    the program is `nsbuild run`'s command;
//   Attack/Escape.InBuild/NAME  it is the compile phase of a recipe that
//                               `nsbuild build --dest` builds and merges.
// After each: no process of the attack is left, the nsbuild binary and
// /etc/passwd are unchanged, and the attack's own host-side checks hold.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/security/attacks.h"
#include "tests/support/harness.h"

namespace nsbuild::testing {
namespace {

namespace fs = std::filesystem;

std::string Fill(std::string text, const std::map<std::string, std::string>& vars) {
  for (const auto& [k, v] : vars) {
    std::string key = "@" + k + "@";
    for (size_t pos; (pos = text.find(key)) != std::string::npos;) text.replace(pos, key.size(), v);
  }
  return text;
}

// A token in the attack's command line, inherited by what it forks. The
// test's pid keeps it apart from the same attack run by a parallel ctest.
std::string Marker(const Attack& a) {
  return "nsbuild-attack-" + a.name + "-" + std::to_string(getpid());
}

bool ProcessWithArgExists(const std::string& needle) {
  std::string self = std::to_string(getpid());
  for (const auto& e : fs::directory_iterator("/proc")) {
    if (e.path().filename() == self) continue;
    std::string cmdline = Read(e.path().string() + "/cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (cmdline.find(needle) != std::string::npos) return true;
  }
  return false;
}

// What an escape would change on the host, read before and after.
struct HostFingerprint {
  std::string nsbuild, passwd;
  static HostFingerprint Take() {
    auto sum = [](const std::string& p) {
      struct stat st = {};
      ::stat(p.c_str(), &st);
      return RunCommand({"sha256sum", p}).out + std::to_string(st.st_mtim.tv_nsec) + " " +
             std::to_string(st.st_mode) + " " + std::to_string(st.st_uid);
    };
    return {sum(NsbuildBin()), sum("/etc/passwd")};
  }
  bool operator==(const HostFingerprint&) const = default;
};

class Escape : public ::testing::TestWithParam<const Attack*> {
 protected:
  void SetUp() override {
    const Attack& a = *GetParam();
    if (!a.root_only.empty() && !IsRoot()) GTEST_SKIP() << a.root_only;
    if (a.host) host_ = a.host();
    if (!host_) host_ = std::make_unique<HostSide>();
    vars_ = host_->Vars();
    if (!a.policy.empty()) {
      policy_ = scratch_.path() + "/policy.json";
      std::ofstream(policy_) << a.policy;
    }
    before_ = HostFingerprint::Take();
  }

  // The checks every attack gets, from outside.
  void CheckOutside() {
    const Attack& a = *GetParam();
    EXPECT_FALSE(ProcessWithArgExists(Marker(a))) << "a process of the attack outlived it";
    EXPECT_TRUE(HostFingerprint::Take() == before_) << "the nsbuild binary or /etc/passwd changed";
    host_->CheckAfter();
  }

  std::string Program(const std::string& writable) {
    vars_["W"] = writable;
    const Attack& a = *GetParam();
    return Fill(a.python ? std::string(kAttackPrelude) + a.program : a.program, vars_);
  }

  TempDir scratch_;
  std::unique_ptr<HostSide> host_;
  std::map<std::string, std::string> vars_;
  std::string policy_;
  HostFingerprint before_;
};

TEST_P(Escape, InRun) {
  const Attack& a = *GetParam();
  std::string w = scratch_.path() + "/w";
  fs::create_directory(w);
  ::chmod(w.c_str(), 0777);  // writable by the sandbox's mapped ids
  std::vector<std::string> argv = {NsbuildBin(), "run", "--bind", w + ":/work"};
  if (!policy_.empty()) argv.insert(argv.end(), {"--policy", policy_});
  if (a.timeout > 0) argv.insert(argv.end(), {"--timeout", std::to_string(a.timeout)});
  if (a.python) {
    argv.insert(argv.end(), {"--", "/usr/bin/python3", "-c", Program("/work"), Marker(a)});
  } else {
    argv.insert(argv.end(), {"--", "/bin/sh", "-c", Program("/work"), Marker(a)});
  }
  auto r = RunCommand(argv, host_->Env());
  if (a.ends_by_timeout) {
    EXPECT_EQ(r.status, 128 + SIGKILL) << r.err;
  } else {
    EXPECT_EQ(r.status, 0) << r.err;
  }
  EXPECT_EQ(r.out, a.expected) << r.err;
  CheckOutside();
}

// Every path in `dest`, relative, but the merger's own database directory.
std::vector<std::string> Installed(const std::string& dest) {
  std::vector<std::string> out;
  if (!fs::exists(dest)) return out;
  for (auto it = fs::recursive_directory_iterator(dest); it != fs::recursive_directory_iterator();
       ++it) {
    std::string rel = fs::relative(it->path(), dest).string();
    if (rel != "var" && rel != "var/lib" && rel.rfind("var/lib/nsbuild", 0) != 0)
      out.push_back(rel);
  }
  return out;
}

TEST_P(Escape, InBuild) {
  const Attack& a = *GetParam();
  std::string dir = scratch_.path();
  std::string file = a.python ? "attack.py" : "attack.sh";
  fs::create_directories(dir + "/src");
  std::ofstream(dir + "/src/" + file) << Program("/nsbuild/image");
  std::string interp = a.python ? "/usr/bin/python3" : "/bin/sh";
  std::string recipe =
      R"({"name": "attack", "version": "1", "source": "src", "implementations": ["a"],
      "define_implementations": {"a": {"program": "/bin/sh"}},
      "timeout": )" +
      std::to_string(static_cast<int>(std::ceil(a.timeout))) + R"(,
      "phases": {"compile": ")" +
      interp + " ./" + file + " " + Marker(a) + R"( > $T/attack.out"}})";
  std::ofstream(dir + "/recipe.json") << recipe;
  std::vector<std::string> argv = {NsbuildBin(), "build",  dir + "/recipe.json", "--work-dir",
                                   dir + "/w",   "--dest", dir + "/dest"};
  if (!policy_.empty()) argv.insert(argv.end(), {"--policy", policy_});
  auto r = RunCommand(argv, host_->Env());
  std::string log = Read(dir + "/w/logs/a-compile.log");
  if (a.ends_by_timeout) {
    EXPECT_EQ(r.status, 1) << r.err;
    EXPECT_NE(r.err.find("timed out"), std::string::npos) << r.err;
  } else if (a.writes_outside_roots) {
    EXPECT_EQ(r.status, 1) << r.err;
    EXPECT_NE(r.err.find("outside the allowed roots were denied"), std::string::npos) << r.err;
  } else if (a.leaves_refused_image) {
    EXPECT_EQ(r.status, 1) << r.err;
    EXPECT_NE(r.err.find("nothing was merged"), std::string::npos) << r.err;
  } else {
    EXPECT_EQ(r.status, 0) << r.err << log;
  }
  EXPECT_EQ(Read(dir + "/w/targets/a/tmp/attack.out"), a.expected) << log;
  EXPECT_EQ(Installed(dir + "/dest"), std::vector<std::string>{})
      << "the merger installed the attack's leftovers";
  CheckOutside();
  // overlayfs leaves mode-000 work dirs the scratch dir's removal needs opened.
  RunCommand({"chmod", "-R", "u+rwx", dir});
}

std::vector<const Attack*> All() {
  std::vector<const Attack*> out;
  for (const auto& a : Attacks()) out.push_back(&a);
  return out;
}

std::string NameOf(const ::testing::TestParamInfo<const Attack*>& info) { return info.param->name; }

INSTANTIATE_TEST_SUITE_P(Attack, Escape, ::testing::ValuesIn(All()), NameOf);

}  // namespace
}  // namespace nsbuild::testing
