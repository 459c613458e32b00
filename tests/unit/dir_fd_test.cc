// base/dir_fd.h: the trust rule for directories on a path (pure), the
// checked walk, resolution beneath a directory fd, and removal/creation by
// fd that never follows a planted symlink. builder/source.h's resolution of
// a recipe's source rides on OpenBeneath and is tested here too.
#include "base/dir_fd.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "builder/recipe.h"
#include "builder/source.h"
#include "tests/support/files.h"

namespace nsbuild::base {
namespace {

namespace fs = std::filesystem;
using nsbuild::testing::Read;
using nsbuild::testing::TempDir;

struct stat Dir(uid_t uid, gid_t gid, mode_t mode) {
  struct stat st = {};
  st.st_uid = uid;
  st.st_gid = gid;
  st.st_mode = S_IFDIR | mode;
  return st;
}

const std::vector<uid_t> kRoot = {0};

TEST(TrustRule, OwnedByRootAndNotWritableByOthersIsTrusted) {
  EXPECT_EQ(DirTrustProblem(Dir(0, 0, 0755), "/srv", 0u, kRoot), "");
  EXPECT_EQ(DirTrustProblem(Dir(0, 0, 0755), "/srv", std::nullopt, kRoot), "");
  // Group write by root's own group is root's.
  EXPECT_EQ(DirTrustProblem(Dir(0, 0, 0775), "/srv", 0u, kRoot), "");
}

TEST(TrustRule, AnotherOwnerOrLooseModeIsRefusedNamingTheDirectory) {
  std::string why = DirTrustProblem(Dir(1000, 1000, 0755), "/home/u/proj", 0u, kRoot);
  EXPECT_NE(why.find("/home/u/proj is owned by uid 1000, not by root"), std::string::npos) << why;
  why = DirTrustProblem(Dir(0, 0, 0777), "/srv/open", 0u, kRoot);
  EXPECT_NE(why.find("/srv/open is writable by others (mode 0777)"), std::string::npos) << why;
  why = DirTrustProblem(Dir(0, 50, 0775), "/usr/local", 0u, kRoot);
  EXPECT_NE(why.find("/usr/local is writable by its group (mode 0775)"), std::string::npos) << why;
  // The caller counts as an owner when the check says so (a user's run).
  EXPECT_EQ(DirTrustProblem(Dir(1000, 1000, 0755), "/home/u", 0u, {0, 1000}), "");
}

// /tmp: writable by everyone but sticky and root's; stepping into an entry
// that is ours is safe (only its owner or root can rename it), stepping into
// another user's, or using /tmp itself as the work dir, is not.
TEST(TrustRule, StickyRootDirectoryPassesOnlyIntoOurOwnEntry) {
  EXPECT_EQ(DirTrustProblem(Dir(0, 0, 01777), "/tmp", 0u, kRoot), "");
  std::string why = DirTrustProblem(Dir(0, 0, 01777), "/tmp", 1000u, kRoot);
  EXPECT_NE(why.find("owned by uid 1000"), std::string::npos) << why;
  EXPECT_NE(DirTrustProblem(Dir(0, 0, 01777), "/tmp", std::nullopt, kRoot), "");
  // Sticky but not root's: its owner may remove anything in it.
  EXPECT_NE(DirTrustProblem(Dir(1000, 1000, 01777), "/tmp/x", 0u, kRoot), "");
}

TEST(TrustRule, FilesMustBeRootsAndNotWritableByOthers) {
  struct stat f = Dir(0, 0, 0644);
  f.st_mode = S_IFREG | 0644;
  EXPECT_EQ(FileTrustProblem(f, "/p.json", kRoot), "");
  f.st_mode = S_IFREG | 0666;
  EXPECT_NE(FileTrustProblem(f, "/p.json", kRoot), "");
  f.st_mode = S_IFREG | 0644;
  f.st_uid = 1000;
  EXPECT_NE(FileTrustProblem(f, "/p.json", kRoot), "");
}

TrustCheck On() {
  TrustCheck c;
  c.check = true;
  c.owners = {0, ::geteuid()};
  return c;
}

TEST(TrustedWalk, OpensThroughStickyTmpAndRefusesALooseDirectory) {
  TempDir s;
  fs::create_directories(s / "a/b");
  auto fd = OpenTrustedDir(s / "a/b", On());
  ASSERT_TRUE(fd.ok()) << fd.error().Message();
  struct stat got, want;
  ASSERT_EQ(::fstat(fd->get(), &got), 0);
  ASSERT_EQ(::stat((s / "a/b").c_str(), &want), 0);
  EXPECT_EQ(got.st_ino, want.st_ino);
  ::chmod((s / "a").c_str(), 0777);
  auto refused = OpenTrustedDir(s / "a/b", On());
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().Message().find(s / "a is writable by others"), std::string::npos)
      << refused.error().Message();
  // Unchecked (a user's run): the same walk opens it.
  EXPECT_TRUE(OpenTrustedDir(s / "a/b", TrustCheck{}).ok());
}

TEST(TrustedWalk, CreatesMissingDirectoriesAndFollowsSymlinksCheckingWhereTheyLead) {
  TempDir s;
  fs::create_directories(s / "real");
  fs::create_symlink(s / "real", s / "link");
  auto fd = OpenTrustedDir(s / "link/new/deeper", On(), /*create=*/true);
  ASSERT_TRUE(fd.ok()) << fd.error().Message();
  EXPECT_TRUE(fs::is_directory(s / "real/new/deeper"));
  // A link into a loose directory is checked where it leads.
  fs::create_directories(s / "loose/x");
  ::chmod((s / "loose").c_str(), 0777);
  fs::create_symlink(s / "loose/x", s / "via");
  auto refused = OpenTrustedDir(s / "via", On());
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().Message().find("loose is writable by others"), std::string::npos);
}

TEST(TrustedWalk, AnotherUsersDirectoryIsRefusedWhenRoot) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to make a directory another user owns";
  TempDir s;
  fs::create_directories(s / "theirs/w");
  ASSERT_EQ(::chown((s / "theirs").c_str(), 12345, 12345), 0);
  auto refused = OpenTrustedDir(s / "theirs/w", On());
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().Message().find(s / "theirs is owned by uid 12345"), std::string::npos)
      << refused.error().Message();
}

TEST(TrustedWalk, PolicyFilesMustBeRootsAlone) {
  if (::geteuid() != 0) GTEST_SKIP() << "the file check is for root's runs";
  TempDir s;
  std::ofstream(s / "p.json") << "{}";
  ::chmod((s / "p.json").c_str(), 0644);
  EXPECT_TRUE(OpenTrustedFile(s / "p.json", RootOnlyTrustCheck()).ok());
  ::chmod((s / "p.json").c_str(), 0666);
  EXPECT_FALSE(OpenTrustedFile(s / "p.json", RootOnlyTrustCheck()).ok());
  ::chmod((s / "p.json").c_str(), 0644);
  ::chmod(s.path().c_str(), 0777);
  auto refused = OpenTrustedFile(s / "p.json", RootOnlyTrustCheck());
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().Message().find(s.path() + " is writable by others"), std::string::npos);
  ::chmod(s.path().c_str(), 0700);
}

class Beneath : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(s_ / "r/sub");
    std::ofstream(s_ / "r/sub/file") << "inside";
    std::ofstream(s_ / "victim") << "outside";
    fs::create_symlink(s_ / "victim", s_ / "r/out");
    fs::create_symlink("sub", s_ / "r/in");
    dir_.reset(::open((s_ / "r").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(dir_);
  }
  TempDir s_;
  UniqueFd dir_;
};

TEST_F(Beneath, OpensWhatLiesBeneathWithoutAnySymlink) {
  auto ok = OpenBeneath(dir_, "sub/file", O_RDONLY);
  ASSERT_TRUE(ok.ok()) << ok.error().Message();
  EXPECT_FALSE(OpenBeneath(dir_, "out", O_RDONLY).ok());        // symlink out
  EXPECT_FALSE(OpenBeneath(dir_, "in/file", O_RDONLY).ok());    // even one that stays inside
  EXPECT_FALSE(OpenBeneath(dir_, "../victim", O_RDONLY).ok());  // '..' out
  EXPECT_FALSE(OpenBeneath(dir_, s_ / "victim", O_RDONLY).ok());
  EXPECT_TRUE(OpenBeneath(dir_, "sub/../sub/file", O_RDONLY).ok());
}

TEST_F(Beneath, RecipeSourceResolvesOnlyBeneathTheRecipe) {
  auto src = builder::OpenSourceBeneath(dir_.get(), "sub", "r/sub");
  ASSERT_TRUE(src.ok()) << src.error().Message();
  EXPECT_TRUE(src->is_dir);
  for (const char* bad : {"out", "in", "../victim", "in/file"}) {
    auto r = builder::OpenSourceBeneath(dir_.get(), bad, bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.error().Message().find("--source"), std::string::npos) << r.error().Message();
  }
  // The operator may name any place.
  builder::Recipe recipe;
  recipe.dir = s_ / "r";
  recipe.source = "sub";
  auto op = builder::ResolveSource(recipe, s_ / "victim");
  ASSERT_TRUE(op.ok()) << op.error().Message();
  EXPECT_FALSE(op->is_dir);
}

TEST_F(Beneath, RemovalNeverFollowsAPlantedSymlink) {
  fs::create_directories(s_ / "outside-dir");
  std::ofstream(s_ / "outside-dir/keep") << "keep";
  fs::create_directories(s_ / "r/tree/locked/deep");
  fs::create_symlink(s_ / "outside-dir", s_ / "r/tree/link");
  fs::create_symlink(s_ / "outside-dir", s_ / "r/tree/locked/deep/link");
  ::chmod((s_ / "r/tree/locked").c_str(), 0);  // as overlayfs leaves its work dir
  ASSERT_TRUE(RemoveTreeAt(dir_, "tree").ok());
  EXPECT_FALSE(fs::exists(s_ / "r/tree"));
  EXPECT_EQ(Read(s_ / "outside-dir/keep"), "keep");
  // A symlink itself is removed as a link.
  ASSERT_TRUE(RemoveTreeAt(dir_, "out").ok());
  EXPECT_EQ(Read(s_ / "victim"), "outside");
  EXPECT_TRUE(RemoveTreeAt(dir_, "missing").ok());
}

TEST_F(Beneath, FreshDirsAndAtomicWritesReplaceAPlantedSymlink) {
  fs::create_symlink(s_ / "victim", s_ / "r/images.txt.tmp");
  fs::create_symlink(s_ / "victim", s_ / "r/images.txt");
  ASSERT_TRUE(WriteFileAtomicAt(dir_, "images.txt", "list\n").ok());
  EXPECT_EQ(Read(s_ / "victim"), "outside");
  EXPECT_EQ(Read(s_ / "r/images.txt"), "list\n");
  EXPECT_FALSE(fs::is_symlink(s_ / "r/images.txt"));
  fs::create_directories(s_ / "outside-dir");
  fs::create_symlink(s_ / "outside-dir", s_ / "r/logs");
  auto logs = MakeFreshDirAt(dir_, "logs", 0755);
  ASSERT_TRUE(logs.ok()) << logs.error().Message();
  EXPECT_FALSE(fs::is_symlink(s_ / "r/logs"));
  EXPECT_TRUE(fs::is_directory(s_ / "outside-dir"));
}

TEST_F(Beneath, MountIdTellsAMountPointApart) {
  auto here = MountIdOf(dir_);
  ASSERT_TRUE(here.ok()) << here.error().Message();
  UniqueFd proc(::open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC));
  auto there = MountIdOf(proc);
  ASSERT_TRUE(there.ok());
  EXPECT_NE(*here, *there);
}

}  // namespace
}  // namespace nsbuild::base
