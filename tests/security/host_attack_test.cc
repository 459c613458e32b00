// The host-side suite: what runs as root *around* the sandbox, attacked with
// what a hostile recipe, source, policy choice or work dir can hold
// (tests/security/THREAT_MODEL.md, issue #12). Every case checks a host-side
// sentinel that must stay untouched: a victim file's content and owner, a
// directory's owner and listing, a mount still in place. Cases that need
// another user's files or a mount run as root only (skipped with the reason
// otherwise); the rest run as root and as the unprivileged test user.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/integration/build_util.h"
#include "tests/support/harness.h"

namespace nsbuild::testing {
namespace {

namespace fs = std::filesystem;

bool Has(const std::string& text, const std::string& what) {
  return text.find(what) != std::string::npos;
}

// A file or directory outside everything nsbuild may touch: its content (or
// listing), owner and mode, read before and compared after.
struct Sentinel {
  std::string path;
  std::string state;

  static std::string Describe(const std::string& p) {
    struct stat st = {};
    if (::lstat(p.c_str(), &st) != 0) return "missing";
    std::string out = std::to_string(st.st_uid) + ":" + std::to_string(st.st_gid) + " " +
                      std::to_string(st.st_mode) + " ";
    if (S_ISDIR(st.st_mode)) {
      std::vector<std::string> names;
      for (const auto& e : fs::directory_iterator(p)) names.push_back(e.path().filename().string());
      std::sort(names.begin(), names.end());
      for (const auto& n : names) out += n + "," + Describe(p + "/" + n) + ";";
    } else if (S_ISREG(st.st_mode)) {
      out += Read(p);
    }
    return out;
  }
  static Sentinel Of(const std::string& p) { return {p, Describe(p)}; }
  bool Untouched() const { return Describe(path) == state; }
};

// One shell implementation; `extra` adds keys.
std::string Recipe(const std::string& phases, const std::string& extra = "",
                   const std::string& name = "t", const std::string& source = "src") {
  return R"({"name": ")" + name + R"(", "version": "1", "source": ")" + source +
         R"(", "implementations": ["a"], "define_implementations": {"a": {"program": "/bin/sh"}}, "phases": )" +
         phases + extra + "}";
}

constexpr const char* kOk = R"({"install": "echo ok > $D/f"})";

// nsbuild ARGS with VAR=VALUE set (overriding the test's own environment).
CommandResult NsbuildWithEnv(const std::vector<std::string>& env,
                             const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"/usr/bin/env"};
  argv.insert(argv.end(), env.begin(), env.end());
  argv.push_back(NsbuildBin());
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv);
}

// The policy dir nsbuild under test finds "default" in.
std::string PolicyDir() {
  const char* env = std::getenv("NSBUILD_POLICY_PATH");
  if (env && *env) return std::string(env).substr(0, std::string(env).find(':'));
  return SourceDir() + "/policies";
}

// A uid that is not ours: nsbuild-test when it exists, else a made-up one.
uid_t OtherUid() {
  if (const passwd* pw = ::getpwnam("nsbuild-test")) return pw->pw_uid;
  return 12345;
}

class HostAttack : public ::testing::Test {
 protected:
  void SetUp() override {
    Write(dir_ / "victim/file", "precious\n");
    Write(dir_ / "secret/key", "root-only\n");
    ::chmod((dir_ / "secret").c_str(), 0700);
    ::chmod((dir_ / "secret/key").c_str(), 0600);
    victim_ = Sentinel::Of(dir_ / "victim");
    secret_ = Sentinel::Of(dir_ / "secret");
  }
  void TearDown() override {
    EXPECT_TRUE(victim_.Untouched()) << "victim dir changed: " << Sentinel::Describe(victim_.path);
    EXPECT_TRUE(secret_.Untouched()) << "secret dir changed";
  }
  // Nothing of the secret reached the work dir.
  void NoSecretIn(const std::string& work) {
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(work, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (it->symlink_status(ec).type() == fs::file_type::regular) {
        EXPECT_NE(Read(it->path().string()), "root-only\n") << it->path();
      }
    }
  }
  TempDir dir_;
  Sentinel victim_, secret_;
};

// --- names from a recipe ---------------------------------------------------

TEST_F(HostAttack, RecipeNameWithDotDotCannotPlaceTheWorkDir) {
  Write(dir_ / "proj/src/x", "");
  Write(dir_ / "proj/r.json", Recipe(kOk, "", "../../victim"));
  auto r = RunCommand(
      {"sh", "-c", "cd " + dir_ / "proj" + " && exec " + NsbuildBin() + " build r.json"});
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_TRUE(Has(r.err, "$.name")) << r.err;
  EXPECT_FALSE(fs::exists(dir_ / "proj/nsbuild-work")) << "nothing may be made";
}

TEST_F(HostAttack, ImplementationNameWithSlashIsRefused) {
  Write(dir_ / "src/x", "");
  Write(dir_ / "r.json",
        R"({"name": "t", "version": "1", "source": "src", "implementations": ["../../../victim"],
      "define_implementations": {"../../../victim": {"program": "/bin/sh"}}, "phases": {"install": "true"}})");
  auto r = Nsbuild({"build", dir_ / "r.json", "--work-dir", dir_ / "w"});
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_TRUE(Has(r.err, "$.implementations[0]") || Has(r.err, "$.define_implementations"))
      << r.err;
  EXPECT_FALSE(fs::exists(dir_ / "w/targets")) << "nothing may run";
}

TEST_F(HostAttack, LeadingDotAndOverlongNamesAreRefused) {
  Write(dir_ / "src/x", "");
  Write(dir_ / "r1.json",
        R"({"name": "t", "version": "..", "source": "src", "phases": {"install": "true"}})");
  auto r = Nsbuild({"build", dir_ / "r1.json", "--work-dir", dir_ / "w"});
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_TRUE(Has(r.err, "$.version: must not start with '.'")) << r.err;
  Write(dir_ / "r2.json", Recipe(kOk, "", std::string(65, 'n')));
  r = Nsbuild({"build", dir_ / "r2.json", "--work-dir", dir_ / "w"});
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_TRUE(Has(r.err, "$.name: longer than 64 characters")) << r.err;
}

// --- paths from a recipe ---------------------------------------------------

TEST_F(HostAttack, SourceDotDotOutOfTheRecipeDirIsRefused) {
  Write(dir_ / "proj/r.json", Recipe(kOk, "", "t", "../secret"));
  auto r = Nsbuild({"build", dir_ / "proj/r.json", "--work-dir", dir_ / "w"});
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_TRUE(Has(r.err, "$.source: must stay beneath")) << r.err;
  NoSecretIn(dir_ / "w");
}

TEST_F(HostAttack, AbsoluteSourceIsRefused) {
  Write(dir_ / "proj/r.json", Recipe(kOk, "", "t", dir_ / "secret"));
  auto r = Nsbuild({"build", dir_ / "proj/r.json", "--work-dir", dir_ / "w"});
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_TRUE(Has(r.err, "$.source: must be relative")) << r.err;
  NoSecretIn(dir_ / "w");
}

TEST_F(HostAttack, SourceSymlinkOutOfTheRecipeDirIsRefused) {
  fs::create_directories(dir_ / "proj");
  fs::create_symlink(dir_ / "secret", dir_ / "proj/src");
  Write(dir_ / "proj/r.json", Recipe(kOk));
  auto r = Nsbuild({"build", dir_ / "proj/r.json", "--work-dir", dir_ / "w"});
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_TRUE(Has(r.err, "beneath the recipe's directory")) << r.err;
  NoSecretIn(dir_ / "w");
  // A symlink deeper in the source is copied as a link, never followed.
  fs::remove(dir_ / "proj/src");
  Write(dir_ / "proj/src/x", "");
  fs::create_symlink(dir_ / "secret/key", dir_ / "proj/src/leak");
  r = Nsbuild({"build", dir_ / "proj/r.json", "--work-dir", dir_ / "w"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(fs::is_symlink(dir_ / "w/source/leak"));
  NoSecretIn(dir_ / "w");
}

TEST_F(HostAttack, OperatorNamesAnotherSourceOnTheCommandLine) {
  Write(dir_ / "elsewhere/hello", "hi\n");
  Write(dir_ / "proj/r.json", Recipe(R"({"install": "cp hello $D/"})", "", "t", "missing"));
  auto r = Nsbuild(
      {"build", dir_ / "proj/r.json", "--work-dir", dir_ / "w", "--source", dir_ / "elsewhere"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(Read(dir_ / "w/targets/a/image/hello"), "hi\n");
}

// --- policy is the operator's ----------------------------------------------

TEST_F(HostAttack, RecipeCannotNamePolicyFile) {
  Write(dir_ / "weak.json", Read(PolicyDir() + "/default.json"));
  Write(dir_ / "src/x", "");
  Write(dir_ / "r.json", Recipe(R"({"install": "echo ran > $D/ran"})",
                                R"(, "policy": ")" + dir_ / "weak.json" + "\""));
  auto r = Nsbuild({"build", dir_ / "r.json", "--work-dir", dir_ / "w"});
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_TRUE(Has(r.err, "$.policy")) << r.err;
  EXPECT_FALSE(fs::exists(dir_ / "w/targets/a/image/ran"));
}

TEST_F(HostAttack, RecipeCannotChooseAWeakerInstalledPolicy) {
  // An installed policy that is weaker (host network, no seccomp): a recipe
  // naming it is refused; the operator can still choose it.
  auto weak = nlohmann::json::parse(Read(PolicyDir() + "/default.json"));
  weak["sandbox"]["network"] = "host";
  weak["sandbox"]["seccomp"]["enabled"] = false;
  Write(dir_ / "pol/weak.json", weak.dump());
  Write(dir_ / "src/x", "");
  Write(dir_ / "r.json", Recipe(R"({"install": "echo ran > $D/ran"})", R"(, "policy": "weak")"));
  std::string path = "NSBUILD_POLICY_PATH=" + dir_ / "pol" + ":" + PolicyDir();
  auto r = NsbuildWithEnv({path}, {"build", dir_ / "r.json", "--work-dir", dir_ / "w"});
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_TRUE(Has(r.err, "does not declare itself stricter")) << r.err;
  EXPECT_TRUE(Has(r.err, "--policy weak")) << r.err;
  EXPECT_FALSE(fs::exists(dir_ / "w/targets/a/image/ran"));
}

TEST_F(HostAttack, RecipeMayTightenToStrict) {
  Write(dir_ / "src/x", "");
  Write(dir_ / "r.json", Recipe(R"({"install": "id -u > $D/uid"})", R"(, "policy": "strict")"));
  auto r = Nsbuild({"build", dir_ / "r.json", "--work-dir", dir_ / "w"});
  ASSERT_EQ(r.status, 0) << r.err << Read(dir_ / "w/logs/a-install.log");
  EXPECT_EQ(Read(dir_ / "w/targets/a/image/uid"), "1000\n");  // strict's inside uid
}

TEST_F(HostAttack, PolicyFileInAGroupWritableDirIsRefusedAsRoot) {
  if (!IsRoot()) GTEST_SKIP() << "the ownership checks apply when nsbuild runs as root";
  Write(dir_ / "loose/p.json", Read(PolicyDir() + "/default.json"));
  ::chmod((dir_ / "loose").c_str(), 0775);
  ::chown((dir_ / "loose").c_str(), 0, 100);
  Write(dir_ / "src/x", "");
  Write(dir_ / "r.json", Recipe(R"({"install": "echo ran > $D/ran"})"));
  auto r = Nsbuild(
      {"build", dir_ / "r.json", "--work-dir", dir_ / "w", "--policy", dir_ / "loose/p.json"});
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_TRUE(Has(r.err, dir_ / "loose is writable by its group")) << r.err;
  EXPECT_FALSE(fs::exists(dir_ / "w/targets/a/image/ran"));
  // The same for `nsbuild run`.
  r = Nsbuild({"run", "--policy", dir_ / "loose/p.json", "--", "/bin/true"});
  EXPECT_EQ(r.status, 2) << r.err;
}

TEST_F(HostAttack, PolicyFileOrSearchDirOwnedByAUserIsRefusedAsRoot) {
  if (!IsRoot()) GTEST_SKIP() << "the ownership checks apply when nsbuild runs as root";
  // A user's default.json first in the search path (no seccomp, host net).
  auto weak = nlohmann::json::parse(Read(PolicyDir() + "/default.json"));
  weak["sandbox"]["seccomp"]["enabled"] = false;
  Write(dir_ / "userpol/default.json", weak.dump());
  ::chown((dir_ / "userpol").c_str(), OtherUid(), OtherUid());
  Write(dir_ / "src/x", "");
  Write(dir_ / "r.json", Recipe(R"({"install": "echo ran > $D/ran"})"));
  auto r = NsbuildWithEnv({"NSBUILD_POLICY_PATH=" + dir_ / "userpol"},
                          {"build", dir_ / "r.json", "--work-dir", dir_ / "w"});
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_TRUE(Has(r.err, dir_ / "userpol is owned by uid")) << r.err;
  EXPECT_FALSE(fs::exists(dir_ / "w/targets/a/image/ran"));
  // A file the user owns in a root directory.
  Write(dir_ / "p.json", weak.dump());
  ::chown((dir_ / "p.json").c_str(), OtherUid(), OtherUid());
  r = Nsbuild({"build", dir_ / "r.json", "--work-dir", dir_ / "w", "--policy", dir_ / "p.json"});
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_TRUE(Has(r.err, "p.json is owned by uid")) << r.err;
}

// --- the work dir ----------------------------------------------------------

// Root builds a checkout another user owns with the default
// ./nsbuild-work: refused, naming the directory, before anything is made;
// the user's planted symlink is never followed. With --work-dir under a
// root-owned directory the same checkout builds.
TEST_F(HostAttack, WorkDirInACheckoutAnotherUserOwnsIsRefusedAsRoot) {
  if (!IsRoot()) GTEST_SKIP() << "the ownership checks apply when nsbuild runs as root";
  Write(dir_ / "checkout/src/x", "");
  Write(dir_ / "checkout/r.json", Recipe(kOk));
  fs::create_directories(dir_ / "checkout/nsbuild-work");
  fs::create_symlink(dir_ / "victim", dir_ / "checkout/nsbuild-work/t-1");
  RunCommand({"chown", "-R", "-h", std::to_string(OtherUid()), dir_ / "checkout"});
  auto r = RunCommand(
      {"sh", "-c", "cd " + dir_ / "checkout" + " && exec " + NsbuildBin() + " build r.json"});
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_TRUE(Has(r.err, dir_ / "checkout is owned by uid " + std::to_string(OtherUid()))) << r.err;
  EXPECT_TRUE(Has(r.err, "--work-dir")) << r.err;
  EXPECT_TRUE(fs::is_symlink(dir_ / "checkout/nsbuild-work/t-1"));
  r = Nsbuild({"build", dir_ / "checkout/r.json", "--work-dir", dir_ / "rootwork/t"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(Read(dir_ / "rootwork/t/targets/a/image/f"), "ok\n");
}

// Symlinks left in the work dir between runs, where nsbuild makes its own
// files: removed as links and made afresh, never written through.
TEST_F(HostAttack, PlantedSymlinksInTheWorkDirAreNeverFollowed) {
  Write(dir_ / "src/x", "");
  Write(dir_ / "r.json", Recipe(kOk));
  fs::create_directories(dir_ / "w");
  for (const char* name : {"logs", "targets", "source", "distcc"}) {
    fs::create_symlink(dir_ / "victim", dir_ / ("w/" + std::string(name)));
  }
  fs::create_symlink(dir_ / "victim/file", dir_ / "w/images.txt");
  fs::create_symlink(dir_ / "victim/file", dir_ / "w/images.txt.tmp");
  auto r = Nsbuild({"build", dir_ / "r.json", "--work-dir", dir_ / "w"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_FALSE(fs::is_symlink(dir_ / "w/logs"));
  EXPECT_FALSE(fs::is_symlink(dir_ / "w/images.txt"));
  EXPECT_TRUE(Has(Read(dir_ / "w/images.txt"), "targets/a/image"));
}

TEST_F(HostAttack, PlantedCaptureDirIsNotWrittenThrough) {
  Write(dir_ / "src/x", "");
  Write(dir_ / "r.json",
        Recipe(R"({"install": "echo conf > /etc/nsbuild-host-attack.conf; echo ok > $D/f"})"));
  fs::create_directories(dir_ / "w");
  fs::create_symlink(dir_ / "victim", dir_ / "w/capture");
  auto r = Nsbuild({"build", dir_ / "r.json", "--work-dir", dir_ / "w", "--capture-writes",
                    "--on-write-violation", "warn"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_FALSE(fs::is_symlink(dir_ / "w/capture"));
  EXPECT_EQ(Read(dir_ / "w/capture/a-install/etc/nsbuild-host-attack.conf"), "conf\n");
}

TEST_F(HostAttack, PlantedJobserverDirIsNotChownedOrFilled) {
  Write(dir_ / "src/x", "");
  Write(dir_ / "r.json", Recipe(kOk));
  fs::create_directories(dir_ / "w");
  fs::create_symlink(dir_ / "victim", dir_ / "w/jobserver");
  auto r = Nsbuild({"build", dir_ / "r.json", "--work-dir", dir_ / "w", "-j2", "--jobserver-fifo"});
  EXPECT_EQ(r.status, 0) << r.err;
}

TEST_F(HostAttack, PlantedVerifyLogDirIsNotWrittenThrough) {
  Write(dir_ / "src/x", "");
  Write(dir_ / "r.json", Recipe(kOk));
  // The log a verify run writes, planted as a link to the victim.
  fs::create_directories(dir_ / "v/logs/control");
  fs::create_symlink(dir_ / "victim/file", dir_ / "v/logs/control/a-install.log");
  fs::create_directories(dir_ / "v2");
  fs::create_symlink(dir_ / "victim", dir_ / "v2/logs");
  for (const char* root : {"v", "v2"}) {
    auto r = Nsbuild(
        {"verify", dir_ / "r.json", "--work-dir", dir_ / root, "--variations", "+hostname"});
    EXPECT_TRUE(r.status == 0 || r.status == 1) << r.err;
    EXPECT_FALSE(fs::is_symlink(dir_ / (std::string(root) + "/logs")));
  }
}

// verify's fileordering view: the mountpoint a killed run would leave,
// swapped for a symlink to a mount of the host. nsbuild neither unmounts
// that mount nor mounts over it.
TEST_F(HostAttack, DisorderfsMountpointSwappedForASymlinkLeavesHostMountsAlone) {
  if (!IsRoot()) GTEST_SKIP() << "mounts a tmpfs as the victim (root only)";
  if (::access("/dev/fuse", F_OK) != 0) GTEST_SKIP() << "no /dev/fuse here";
  if (RunCommand({"sh", "-c", "command -v disorderfs"}).status != 0)
    GTEST_SKIP() << "disorderfs not installed";
  fs::create_directories(dir_ / "hostmnt");
  ASSERT_EQ(::mount("nsbuild-victim", (dir_ / "hostmnt").c_str(), "tmpfs", 0, "size=1m"), 0);
  Write(dir_ / "hostmnt/sentinel", "mounted\n");
  Write(dir_ / "src/a", "");
  Write(dir_ / "src/b", "");
  Write(dir_ / "r.json", Recipe(R"({"install": "ls -f > $D/order"})"));
  fs::create_directories(dir_ / "v/experiment-1");
  fs::create_symlink(dir_ / "hostmnt", dir_ / "v/experiment-1/source-view");
  auto r = Nsbuild(
      {"verify", dir_ / "r.json", "--work-dir", dir_ / "v", "--variations", "+fileordering"});
  EXPECT_TRUE(r.status == 0 || r.status == 1) << r.err;
  std::string mounts = Read("/proc/self/mountinfo");
  EXPECT_TRUE(Has(mounts, dir_ / "hostmnt")) << "the host's mount was unmounted";
  EXPECT_EQ(Read(dir_ / "hostmnt/sentinel"), "mounted\n");
  EXPECT_FALSE(Has(mounts, dir_ / "v/experiment-1/source-view")) << "the view was left mounted";
  ::umount2((dir_ / "hostmnt").c_str(), MNT_DETACH);
}

}  // namespace
}  // namespace nsbuild::testing
