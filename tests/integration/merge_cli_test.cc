// The merger through the real nsbuild binary: crash consistency with the
// abort hook swept over a whole merge, automatic recovery, the exec-wrapper
// dispatcher, and the command line's errors and exit statuses.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "tests/support/harness.h"
#include "tests/unit/merge_fixture.h"

namespace nsbuild::testing {
namespace {

namespace fs = std::filesystem;
using merge::testing::Read;
using merge::testing::Snapshot;
using merge::testing::Write;

constexpr int kKilled = 128 + 9;

void MakeV1(const std::string& d) {
  Write(d + "/usr/bin/tool", "#!/bin/sh\necho v1\n", 0755);
  Write(d + "/usr/share/foo/a", "a1");
  Write(d + "/usr/share/foo/b", "b");
  Write(d + "/usr/share/foo/c", "c");
  Write(d + "/usr/share/foo/gone/x", "x");
  Write(d + "/etc/foo.conf", "conf 1\n");
  Write(d + "/usr/lib/libfoo.so.1", "lib1");
  fs::create_symlink("libfoo.so.1", d + "/usr/lib/libfoo.so");
}

void MakeV2(const std::string& d) {
  Write(d + "/usr/bin/tool", "#!/bin/sh\necho v2\n", 0755);
  Write(d + "/usr/share/foo/a", "a2");
  Write(d + "/usr/share/foo/b", "b");
  Write(d + "/usr/share/foo/new/d", "d");
  Write(d + "/etc/foo.conf", "conf 2\n");
  Write(d + "/usr/lib/libfoo.so.2", "lib2");
  fs::create_symlink("libfoo.so.2", d + "/usr/lib/libfoo.so");
}

// A fresh copy of a template: a merged image's inodes are linked into a
// destination, so each merge needs its own.
std::string Fresh(const std::string& tmpl, const std::string& where) {
  fs::remove_all(where);
  EXPECT_EQ(RunCommand({"cp", "-a", tmpl, where}).status, 0);
  return where;
}

CommandResult MergeInto(const std::string& dest, const std::string& image,
                        const std::vector<std::string>& env = {}) {
  std::vector<std::string> argv = {NsbuildBin(), "merge", "--dest", dest,
                                   "--package",  "foo",   image};
  return RunCommand(argv, env);
}

// The destination with v1 installed and its config edited by the admin.
void Installed(const TempDir& s, const std::string& dest) {
  fs::create_directories(dest);
  auto r = MergeInto(dest, Fresh(s.path() + "/v1", s.path() + "/v1-copy"));
  ASSERT_EQ(r.status, 0) << r.err;
  fs::remove(dest + "/etc/foo.conf");
  Write(dest + "/etc/foo.conf", "admin\n");
}

std::string Diff(const std::map<std::string, std::string>& a,
                 const std::map<std::string, std::string>& b) {
  std::string out;
  for (const auto& [k, v] : a) {
    auto it = b.find(k);
    if (it == b.end())
      out += "+" + k + " ";
    else if (it->second != v)
      out += "~" + k + " ";
  }
  for (const auto& [k, v] : b) {
    if (!a.count(k)) out += "-" + k + " ";
  }
  return out;
}

TEST(MergeCli, CrashAtEveryStepRecoversToOldOrNewState) {
  TempDir s;
  MakeV1(s.path() + "/v1");
  MakeV2(s.path() + "/v2");
  std::string old_dest = s.path() + "/old", new_dest = s.path() + "/new";
  Installed(s, old_dest);
  Installed(s, new_dest);
  auto done = MergeInto(new_dest, Fresh(s.path() + "/v2", s.path() + "/v2-copy"));
  ASSERT_EQ(done.status, 0) << done.err;
  const auto old_state = Snapshot(old_dest), new_state = Snapshot(new_dest);
  ASSERT_NE(old_state, new_state);
  ASSERT_EQ(Read(new_dest + "/etc/._new_foo.conf"), "conf 2\n");
  int kills = 0, as_old = 0, as_new = 0;
  for (int k = 1; k < 500; ++k) {
    std::string dest = s.path() + "/d";
    fs::remove_all(dest);
    Installed(s, dest);
    auto r = MergeInto(dest, Fresh(s.path() + "/v2", s.path() + "/v2-copy"),
                       {"NSBUILD_MERGE_ABORT_AFTER=" + std::to_string(k)});
    if (r.status == 0) break;  // k is past the last operation
    ASSERT_EQ(r.status, kKilled) << "k=" << k << ": " << r.err;
    ++kills;
    auto rec = Nsbuild({"merge", "--recover", "--dest", dest});
    ASSERT_EQ(rec.status, 0) << "k=" << k << ": " << rec.err;
    auto state = Snapshot(dest);
    bool is_old = state == old_state, is_new = state == new_state;
    ASSERT_TRUE(is_old || is_new) << "k=" << k << " left a mixed state: " << Diff(state, old_state)
                                  << "\nvs new: " << Diff(state, new_state);
    as_old += is_old;
    as_new += is_new;
    // The database matches the disk (apart from the admin's config edit).
    auto v = Nsbuild({"verify-installed", "foo", "--dest", dest});
    EXPECT_EQ(v.out, "/etc/foo.conf: size changed\n") << "k=" << k << ": " << v.err;
  }
  RecordProperty("kills", kills);
  EXPECT_GT(kills, 20);
  EXPECT_GT(as_old, 0);
  EXPECT_GT(as_new, 0);
}

TEST(MergeCli, CrashDuringUninstallRecoversToInstalledOrGone) {
  TempDir s;
  MakeV1(s.path() + "/v1");
  std::string installed = s.path() + "/installed", gone = s.path() + "/gone";
  Installed(s, installed);
  Installed(s, gone);
  ASSERT_EQ(Nsbuild({"uninstall", "foo", "--dest", gone}).status, 0);
  const auto with = Snapshot(installed), without = Snapshot(gone);
  ASSERT_TRUE(fs::exists(gone + "/etc/foo.conf"));  // the admin's edit is kept
  int kills = 0;
  for (int k = 1; k < 200; ++k) {
    std::string dest = s.path() + "/d";
    fs::remove_all(dest);
    Installed(s, dest);
    auto r = RunCommand({NsbuildBin(), "uninstall", "foo", "--dest", dest},
                        {"NSBUILD_MERGE_ABORT_AFTER=" + std::to_string(k)});
    if (r.status == 0) break;
    ASSERT_EQ(r.status, kKilled) << "k=" << k << ": " << r.err;
    ++kills;
    ASSERT_EQ(Nsbuild({"merge", "--recover", "--dest", dest}).status, 0);
    auto state = Snapshot(dest);
    ASSERT_TRUE(state == with || state == without)
        << "k=" << k << ": " << Diff(state, with) << "\nvs uninstalled: " << Diff(state, without);
  }
  EXPECT_GT(kills, 5);
}

TEST(MergeCli, NextMergeRecoversAnInterruptedOne) {
  TempDir s;
  MakeV1(s.path() + "/v1");
  MakeV2(s.path() + "/v2");
  std::string dest = s.path() + "/d";
  Installed(s, dest);
  auto r =
      MergeInto(dest, Fresh(s.path() + "/v2", s.path() + "/v2-a"), {"NSBUILD_MERGE_ABORT_AFTER=6"});
  ASSERT_EQ(r.status, kKilled) << r.err;
  EXPECT_TRUE(fs::exists(dest + "/var/lib/nsbuild/.journal.json"));
  auto owner = Nsbuild({"owner", "/usr/share/foo/a", "--dest", dest});
  EXPECT_EQ(owner.status, 2);  // read-only commands refuse a pending journal
  EXPECT_NE(owner.err.find("--recover"), std::string::npos) << owner.err;
  auto again = MergeInto(dest, Fresh(s.path() + "/v2", s.path() + "/v2-b"));
  ASSERT_EQ(again.status, 0) << again.err;
  EXPECT_NE(again.err.find("recovered first: rolled back the interrupted merge of foo"),
            std::string::npos)
      << again.err;
  EXPECT_EQ(Read(dest + "/usr/share/foo/a"), "a2");
}

// Two implementations whose scripts name their interpreter; the fake
// interpreters print which one ran.
class Dispatcher : public ::testing::Test {
 protected:
  void SetUp() override {
    dest_ = s_.path() + "/dest";
    fs::create_directories(dest_);
    for (const char* impl : {"py311", "py312"}) {
      std::string interp = s_.path() + "/bin/" + impl;
      Write(interp, std::string("#!/bin/sh\necho \"") + impl + " ran $1\"\n", 0755);
      Write(s_.path() + "/" + impl + "/usr/bin/tool", "#!" + interp + "\n", 0755);
      Write(s_.path() + "/" + impl + "/usr/bin/plain", "#!/bin/sh\necho plain\n", 0755);
    }
    auto r =
        Nsbuild({"merge", "--dest", dest_, "--package", "tool", "--wrap", "usr/bin", "--impl-order",
                 "py312,py311", "py311=" + s_.path() + "/py311", "py312=" + s_.path() + "/py312"});
    ASSERT_EQ(r.status, 0) << r.err;
  }
  CommandResult Tool(const std::vector<std::string>& env = {}) {
    return RunCommand({dest_ + "/usr/bin/tool"}, env);
  }
  TempDir s_;
  std::string dest_;
};

TEST_F(Dispatcher, WrapsNamedScriptsOnly) {
  EXPECT_EQ(fs::read_symlink(dest_ + "/usr/bin/tool"), "../lib/nsbuild-exec/nsbuild-exec");
  EXPECT_TRUE(fs::is_regular_file(dest_ + "/usr/lib/nsbuild-exec/py311/tool"));
  EXPECT_TRUE(fs::is_regular_file(dest_ + "/usr/lib/nsbuild-exec/py312/tool"));
  EXPECT_FALSE(fs::is_symlink(dest_ + "/usr/bin/plain"));  // #!/bin/sh names no implementation
  EXPECT_EQ(Read(dest_ + "/usr/lib/nsbuild-exec/.order/tool"), "py312\npy311\n");
}

TEST_F(Dispatcher, PicksByVariableThenConfigThenBuildOrder) {
  auto r = Tool();
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("py312 ran"), std::string::npos) << r.out;  // the build's order
  r = Tool({"NSBUILD_IMPL=py311"});
  EXPECT_NE(r.out.find("py311 ran"), std::string::npos) << r.out;
  r = Tool({"EPYTHON=py311"});
  EXPECT_NE(r.out.find("py311 ran"), std::string::npos) << r.out;
  Write(dest_ + "/etc/nsbuild-exec.conf", "# admin prefers\npy311\n");
  r = Tool();
  EXPECT_NE(r.out.find("py311 ran"), std::string::npos) << r.out;
}

TEST_F(Dispatcher, NeverRunsAMissingImplementation) {
  fs::remove(dest_ + "/usr/lib/nsbuild-exec/py312/tool");
  auto r = Tool();
  EXPECT_NE(r.out.find("py311 ran"), std::string::npos) << r.out;  // next in order
  r = Tool({"NSBUILD_IMPL=py312"});
  EXPECT_EQ(r.status, 127);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("NSBUILD_IMPL=py312, but"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("installed: py311"), std::string::npos) << r.err;
  fs::remove(dest_ + "/usr/lib/nsbuild-exec/py311/tool");
  r = Tool();
  EXPECT_EQ(r.status, 127);
  EXPECT_NE(r.err.find("no implementation of it is installed"), std::string::npos) << r.err;
}

TEST(MergeCli, ErrorsAndExitStatuses) {
  TempDir s;
  std::string dest = s.path() + "/d";
  fs::create_directories(dest);
  auto missing = Nsbuild({"merge", "--dest", dest, s.path() + "/nope"});
  EXPECT_EQ(missing.status, 2);
  EXPECT_NE(missing.err.find("is not a directory"), std::string::npos) << missing.err;
  Write(s.path() + "/img/usr/bin/su", "x", 04755);
  auto check = Nsbuild({"check", s.path() + "/img"});
  EXPECT_EQ(check.status, 1);
  EXPECT_NE(check.err.find("/usr/bin/su: has the setuid bit"), std::string::npos) << check.err;
  auto refused = Nsbuild({"merge", "--dest", dest, s.path() + "/img"});
  EXPECT_EQ(refused.status, 1);
  EXPECT_NE(refused.err.find("nothing was merged"), std::string::npos) << refused.err;
  EXPECT_FALSE(fs::exists(dest + "/usr"));
  Write(s.path() + "/policy.json", R"({"merge": {"owner": "0:0", "fatal": []}})");
  auto bad = Nsbuild({"check", "--policy", s.path() + "/policy.json", s.path() + "/img"});
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.err.find("$.merge.fatal"), std::string::npos) << bad.err;
  auto none = Nsbuild({"owner", "/usr/bin/x", "--dest", dest});
  EXPECT_EQ(none.status, 2);
  auto help = Nsbuild({"merge", "--help"});
  EXPECT_EQ(help.status, 0);
  EXPECT_NE(help.out.find("Exit status"), std::string::npos);
}

// `nsbuild build --dest` (issue 13): the work dir's images do not stay
// behind as second names of installed files, building again upgrades the
// package (same recipe, same origin), and another recipe reusing the name
// needs --replace.
TEST(MergeCli, BuildDestLeavesNoSecondNamesAndRecordsTheRecipe) {
  TempDir s;
  ::chmod(s.path().c_str(), 0755);  // the sandbox's mapped ids traverse it
  fs::create_directories(s.path() + "/src");
  auto recipe = [&](const std::string& path, const std::string& text) {
    Write(path, R"({"name": "t", "version": "1", "source": "src", "implementations": ["a"],
      "define_implementations": {"a": {"program": "/bin/sh"}},
      "phases": {"install": "mkdir -p $D/usr/share/t && echo )" +
                    text + R"( > $D/usr/share/t/f"}})");
  };
  recipe(s.path() + "/r.json", "one");
  std::string dest = s.path() + "/dest", work = s.path() + "/w";
  auto build = [&](const std::string& r, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv = {"build", r, "--work-dir", work, "--dest", dest};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return Nsbuild(argv);
  };
  auto first = build(s.path() + "/r.json");
  ASSERT_EQ(first.status, 0) << first.err;
  EXPECT_EQ(Read(dest + "/usr/share/t/f"), "one\n");
  struct stat st;
  ASSERT_EQ(::stat((dest + "/usr/share/t/f").c_str(), &st), 0);
  EXPECT_EQ(st.st_nlink, 1u) << "an image still holds a second name of the installed file";
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(work + "/targets/a/image"))
    left.push_back(e.path().filename());
  EXPECT_EQ(left, std::vector<std::string>{".nsbuild-merged"});
  std::string db = Read(dest + "/var/lib/nsbuild/t.json");
  EXPECT_NE(db.find("\"origin\": \"recipe " + fs::canonical(s.path() + "/r.json").string() + "\""),
            std::string::npos)
      << db;
  EXPECT_NE(db.find("\"origin_sha256\": \""), std::string::npos) << db;
  // The same recipe, changed: an upgrade.
  recipe(s.path() + "/r.json", "two");
  auto again = build(s.path() + "/r.json");
  ASSERT_EQ(again.status, 0) << again.err;
  EXPECT_EQ(Read(dest + "/usr/share/t/f"), "two\n");
  // Another recipe of the same name: refused, then replaced on request.
  fs::create_directories(s.path() + "/other/src");
  recipe(s.path() + "/other/r.json", "squat");
  auto squat = build(s.path() + "/other/r.json");
  EXPECT_EQ(squat.status, 1) << squat.err;
  EXPECT_NE(squat.err.find("--replace replaces it"), std::string::npos) << squat.err;
  EXPECT_EQ(Read(dest + "/usr/share/t/f"), "two\n");
  auto replaced = build(s.path() + "/other/r.json", {"--replace"});
  ASSERT_EQ(replaced.status, 0) << replaced.err;
  EXPECT_EQ(Read(dest + "/usr/share/t/f"), "squat\n");
}

}  // namespace
}  // namespace nsbuild::testing
