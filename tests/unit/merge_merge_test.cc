// Merging: the database, collisions between implementations and with the
// destination, config protection, upgrades and uninstall.
#include "merge/merge.h"

#include <gtest/gtest.h>
#include <sys/mount.h>

#include "merge/maintenance.h"
#include "tests/unit/merge_fixture.h"

namespace nsbuild::merge {
namespace {

using testing::Read;
using testing::Snapshot;
using testing::TempDir;
using testing::Write;
namespace fs = std::filesystem;

class Merge : public ::testing::Test {
 protected:
  MergeRequest Req(std::vector<ImageSpec> images, const std::string& pkg = "foo") {
    MergeRequest r;
    r.dest = dest_.path();
    r.package = pkg;
    r.images = std::move(images);
    return r;
  }
  MergeReport MergeOk(const MergeRequest& r) {
    auto rep = MergeImages(r);
    EXPECT_TRUE(rep.ok()) << rep.error().Message();
    if (!rep.ok()) return {};
    EXPECT_TRUE(rep->merged);
    return *rep;
  }
  std::string Dest(const std::string& rel) const { return dest_ / rel; }
  TempDir tmp_, dest_;
};

TEST_F(Merge, HardlinksFilesAndRecordsThem) {
  Write(tmp_ / "a/usr/bin/tool", "#!/bin/sh\n", 0755);
  Write(tmp_ / "a/usr/share/doc/foo/README", "hello");
  fs::create_symlink("tool", tmp_ / "a/usr/bin/tool2");
  struct stat img, dst;
  ASSERT_EQ(::stat((tmp_ / "a/usr/bin/tool").c_str(), &img), 0);  // the image is emptied after
  MergeOk(Req({{"", tmp_ / "a"}}));
  ASSERT_EQ(::stat(Dest("usr/bin/tool").c_str(), &dst), 0);
  EXPECT_EQ(img.st_ino, dst.st_ino);  // a hardlink, not a copy
  EXPECT_EQ(fs::read_symlink(Dest("usr/bin/tool2")), "tool");
  std::string db = Read(Dest("var/lib/nsbuild/foo.json"));
  EXPECT_NE(db.find("\"/usr/share/doc/foo/README\""), std::string::npos);
  // sha256("hello")
  EXPECT_NE(db.find("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"),
            std::string::npos);
  auto owners = Owners(dest_.path(), "/usr/bin/tool");
  ASSERT_TRUE(owners.ok());
  EXPECT_EQ(*owners, std::vector<std::string>{"foo"});
  auto changed = VerifyInstalled(dest_.path(), "foo");
  ASSERT_TRUE(changed.ok());
  EXPECT_TRUE(changed->empty());
  if (testing::IsRoot()) {
    EXPECT_EQ(dst.st_uid, 0u);  // sealed to the policy owner
  }
}

TEST_F(Merge, IdenticalFilesOfTwoImplementationsMergeOnce) {
  for (const char* i : {"py311", "py312"}) Write(tmp_ / (std::string(i) + "/usr/share/x"), "same");
  auto rep = MergeOk(Req({{"py311", tmp_ / "py311"}, {"py312", tmp_ / "py312"}}));
  EXPECT_TRUE(rep.conflicts.empty());
  EXPECT_EQ(Read(Dest("usr/share/x")), "same");
}

TEST_F(Merge, DifferentFilesConflictUnlessOrdered) {
  Write(tmp_ / "py311/usr/share/x", "eleven");
  Write(tmp_ / "py312/usr/share/x", "twelve");
  auto rep = MergeImages(Req({{"py311", tmp_ / "py311"}, {"py312", tmp_ / "py312"}}));
  ASSERT_TRUE(rep.ok());
  ASSERT_EQ(rep->conflicts.size(), 1u);
  EXPECT_NE(rep->conflicts[0].reason.find("py311 and py312"), std::string::npos);
  EXPECT_FALSE(rep->merged);
  EXPECT_FALSE(fs::exists(Dest("usr/share/x")));
  // The preference order decides, whatever the command-line order.
  auto r = Req({{"py311", tmp_ / "py311"}, {"py312", tmp_ / "py312"}});
  r.impl_order = {"py312", "py311"};
  auto ok = MergeOk(r);
  EXPECT_EQ(Read(Dest("usr/share/x")), "twelve");
  EXPECT_EQ(ok.preferred.size(), 1u);
}

TEST_F(Merge, SymlinkOutOfTheImageThenAFileThroughIt) {
  TempDir outside;
  fs::create_directories(tmp_ / "py311/usr/share");
  fs::create_directory_symlink(outside.path(), tmp_ / "py311/usr/share/x");
  Write(tmp_ / "py312/usr/share/x/passwd", "root::0:0::/:/bin/sh\n");
  auto r = Req({{"py311", tmp_ / "py311"}, {"py312", tmp_ / "py312"}});
  auto rep = MergeImages(r);
  ASSERT_TRUE(rep.ok()) << rep.error().Message();
  EXPECT_FALSE(rep->conflicts.empty());  // a symlink in one, a directory in the other
  r.impl_order = {"py311", "py312"};     // even when the symlink wins the path
  rep = MergeImages(r);
  ASSERT_TRUE(rep.ok()) << rep.error().Message();
  ASSERT_EQ(rep->conflicts.size(), 1u);
  EXPECT_NE(rep->conflicts[0].reason.find("which is a symlink in implementation py311"),
            std::string::npos)
      << rep->conflicts[0].reason;
  EXPECT_FALSE(rep->merged);
  EXPECT_TRUE(fs::is_empty(outside.path()));
  EXPECT_FALSE(fs::exists(Dest("usr")));
}

TEST_F(Merge, CollisionsWithTheDestinationChangeNothing) {
  Write(Dest("usr/share/x"), "admin's");
  Write(tmp_ / "a/usr/share/x", "package's");
  auto before = Snapshot(dest_.path());
  auto rep = MergeImages(Req({{"", tmp_ / "a"}}));
  ASSERT_TRUE(rep.ok());
  ASSERT_EQ(rep->collisions.size(), 1u);
  EXPECT_NE(rep->collisions[0].reason.find("belongs to no package"), std::string::npos);
  fs::remove_all(Dest("var"));
  EXPECT_EQ(Snapshot(dest_.path()), before);
  // Owned by another package: named in the collision.
  fs::remove(Dest("usr/share/x"));
  Write(tmp_ / "b/usr/share/x", "b's");
  MergeOk(Req({{"", tmp_ / "b"}}, "bar"));
  rep = MergeImages(Req({{"", tmp_ / "a"}}));
  ASSERT_TRUE(rep.ok());
  ASSERT_EQ(rep->collisions.size(), 1u);
  EXPECT_NE(rep->collisions[0].reason.find("package bar"), std::string::npos);
  EXPECT_EQ(Read(Dest("usr/share/x")), "b's");
}

TEST_F(Merge, UpgradeReplacesAndRemovesDroppedFiles) {
  Write(tmp_ / "v1/usr/share/foo/keep", "1");
  Write(tmp_ / "v1/usr/share/foo/dropped", "1");
  Write(tmp_ / "v1/usr/share/old/only", "1");
  MergeOk(Req({{"", tmp_ / "v1"}}));
  Write(tmp_ / "v2/usr/share/foo/keep", "2");
  Write(tmp_ / "v2/usr/share/foo/new", "2");
  MergeOk(Req({{"", tmp_ / "v2"}}));
  EXPECT_EQ(Read(Dest("usr/share/foo/keep")), "2");
  EXPECT_TRUE(fs::exists(Dest("usr/share/foo/new")));
  EXPECT_FALSE(fs::exists(Dest("usr/share/foo/dropped")));
  EXPECT_FALSE(fs::exists(Dest("usr/share/old")));  // its directory went too
  auto changed = VerifyInstalled(dest_.path(), "foo");
  ASSERT_TRUE(changed.ok());
  EXPECT_TRUE(changed->empty());
}

TEST_F(Merge, ChangedConfigIsNotOverwritten) {
  Write(tmp_ / "v1/etc/foo.conf", "default 1\n");
  MergeOk(Req({{"", tmp_ / "v1"}}));
  // Unchanged: replaced in place.
  Write(tmp_ / "v2/etc/foo.conf", "default 2\n");
  auto rep = MergeOk(Req({{"", tmp_ / "v2"}}));
  EXPECT_TRUE(rep.config_new.empty());
  EXPECT_EQ(Read(Dest("etc/foo.conf")), "default 2\n");
  // Changed by the admin: kept, the new one beside it.
  fs::remove(Dest("etc/foo.conf"));
  Write(Dest("etc/foo.conf"), "admin\n");
  Write(tmp_ / "v3/etc/foo.conf", "default 3\n");
  rep = MergeOk(Req({{"", tmp_ / "v3"}}));
  EXPECT_EQ(rep.config_new, std::vector<std::string>{"/etc/foo.conf"});
  EXPECT_EQ(Read(Dest("etc/foo.conf")), "admin\n");
  EXPECT_EQ(Read(Dest("etc/._new_foo.conf")), "default 3\n");
}

TEST_F(Merge, UninstallRemovesExactlyWhatWasInstalledAndKeepsChanges) {
  Write(Dest("usr/share/other"), "not ours");
  auto before = Snapshot(dest_.path());
  Write(tmp_ / "a/usr/share/foo/a", "a");
  Write(tmp_ / "a/usr/share/foo/b", "b");
  Write(tmp_ / "a/usr/share/foo/changed", "c");
  MergeOk(Req({{"", tmp_ / "a"}}));
  fs::remove(Dest("usr/share/foo/changed"));
  Write(Dest("usr/share/foo/changed"), "edited");
  auto rep = Uninstall(dest_.path(), "foo");
  ASSERT_TRUE(rep.ok()) << rep.error().Message();
  EXPECT_EQ(rep->kept, std::vector<std::string>{"/usr/share/foo/changed"});
  EXPECT_EQ(Read(Dest("usr/share/foo/changed")), "edited");
  fs::remove(Dest("usr/share/foo/changed"));
  fs::remove(Dest("usr/share/foo"));
  fs::remove_all(Dest("var"));
  EXPECT_EQ(Snapshot(dest_.path()), before);
  EXPECT_FALSE(Uninstall(dest_.path(), "foo").ok());  // no longer installed
}

TEST_F(Merge, PlantedDestinationSymlinkIsNeverFollowed) {
  TempDir outside;
  fs::create_directories(Dest("usr"));
  fs::create_directory_symlink(outside.path(), Dest("usr/share"));
  Write(tmp_ / "a/usr/share/evil", "written through a symlink");
  auto rep = MergeImages(Req({{"", tmp_ / "a"}}));
  ASSERT_TRUE(rep.ok()) << rep.error().Message();
  EXPECT_FALSE(rep->collisions.empty());
  EXPECT_TRUE(fs::is_empty(outside.path()));
}

TEST_F(Merge, VanishedImageLeavesTheDestinationUnchanged) {
  Write(Dest("usr/share/keep"), "x");
  for (int i = 0; i < 20; ++i) Write(tmp_ / ("a/usr/share/f/" + std::to_string(i)), "data");
  auto before = Snapshot(dest_.path());
  auto r = Req({{"", tmp_ / "a"}});
  r.before_execute = [&] { fs::remove_all(tmp_ / "a/usr/share/f"); };
  auto rep = MergeImages(r);
  ASSERT_FALSE(rep.ok());
  EXPECT_NE(rep.error().Message().find("nothing was changed"), std::string::npos)
      << rep.error().Message();
  auto after = Snapshot(dest_.path());
  EXPECT_EQ(after.erase("var/lib/nsbuild"), 1u);  // the database dir may stay, empty
  after.erase("var/lib");
  after.erase("var");
  EXPECT_EQ(after, before);
}

TEST_F(Merge, RollbackNeverRemovesAFileThatAppearedMeanwhile) {
  fs::create_directories(Dest("usr/share"));
  for (const char* f : {"a", "b", "c"}) Write(tmp_ / (std::string("img/usr/share/") + f), f);
  auto r = Req({{"", tmp_ / "img"}});
  r.before_execute = [&] { Write(Dest("usr/share/b"), "someone else's"); };
  auto rep = MergeImages(r);
  ASSERT_FALSE(rep.ok());
  EXPECT_NE(rep.error().Message().find("File exists"), std::string::npos) << rep.error().Message();
  EXPECT_EQ(Read(Dest("usr/share/b")), "someone else's");
  EXPECT_FALSE(fs::exists(Dest("usr/share/a")));  // rolled back
  EXPECT_FALSE(fs::exists(Dest("usr/share/c")));  // never created
}

// A tmpfs mounted for one test (root only), unmounted by the destructor.
class ScopedTmpfs {
 public:
  ScopedTmpfs(const std::string& dir, const std::string& opts, unsigned long flags = 0)
      : dir_(dir) {
    ok_ = ::mount("tmpfs", dir.c_str(), "tmpfs", flags, opts.c_str()) == 0;
  }
  ~ScopedTmpfs() {
    if (ok_) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  bool ok() const { return ok_; }

 private:
  std::string dir_;
  bool ok_ = false;
};

TEST_F(Merge, ImageOnAnotherFilesystemIsCopiedWhole) {
  if (!testing::IsRoot()) GTEST_SKIP() << "mounting a tmpfs needs root";
  fs::create_directories(tmp_ / "img");
  ScopedTmpfs t(tmp_ / "img", "size=4m");
  ASSERT_TRUE(t.ok());
  Write(tmp_ / "img/usr/share/big", std::string(100000, 'z'), 0640);
  struct stat a, b;
  ::stat((tmp_ / "img/usr/share/big").c_str(), &a);  // the image is emptied after
  MergeOk(Req({{"", tmp_ / "img"}}));
  ::stat(Dest("usr/share/big").c_str(), &b);
  EXPECT_NE(a.st_dev, b.st_dev);
  EXPECT_EQ(b.st_mode & 07777, 0640u);
  EXPECT_EQ(Read(Dest("usr/share/big")), std::string(100000, 'z'));
  EXPECT_FALSE(fs::exists(Dest("usr/share/.nsb-tmp.0")));
}

TEST_F(Merge, NoSpaceRollsBack) {
  if (!testing::IsRoot()) GTEST_SKIP() << "mounting a tmpfs needs root";
  ScopedTmpfs t(dest_.path(), "size=256k");
  ASSERT_TRUE(t.ok());
  Write(Dest("usr/share/admin"), "x");
  auto before = Snapshot(dest_.path());
  for (int i = 0; i < 8; ++i) {
    Write(tmp_ / ("a/usr/share/f/" + std::to_string(i)), std::string(64 * 1024, 'a' + i));
  }
  auto rep = MergeImages(Req({{"", tmp_ / "a"}}));
  ASSERT_FALSE(rep.ok());
  EXPECT_NE(rep.error().Message().find("No space left"), std::string::npos)
      << rep.error().Message();
  EXPECT_NE(rep.error().Message().find("nothing was changed"), std::string::npos);
  EXPECT_FALSE(fs::exists(Dest("var/lib/nsbuild/.journal.json")));
  auto after = Snapshot(dest_.path());
  after.erase("var/lib/nsbuild");
  after.erase("var/lib");
  after.erase("var");
  EXPECT_EQ(after, before);
}

TEST_F(Merge, UnwritableDestinationFailsCleanly) {
  if (!testing::IsRoot()) GTEST_SKIP() << "mounting a tmpfs needs root";
  ScopedTmpfs t(dest_.path(), "size=64k", MS_RDONLY);
  ASSERT_TRUE(t.ok());
  Write(tmp_ / "a/usr/share/x", "x");
  auto rep = MergeImages(Req({{"", tmp_ / "a"}}));
  ASSERT_FALSE(rep.ok());
  EXPECT_NE(rep.error().Message().find("Read-only file system"), std::string::npos)
      << rep.error().Message();
  EXPECT_TRUE(fs::is_empty(dest_.path()));
}

// Names of one inode inside an image (gzip/gunzip style): each is linked
// through its checked fd, though linking the first moves the inode's ctime.
TEST_F(Merge, HardlinkedNamesInsideAnImageMergeAsOneInode) {
  Write(tmp_ / "a/usr/bin/gzip", "#!/bin/sh\n", 0755);
  ASSERT_EQ(::link((tmp_ / "a/usr/bin/gzip").c_str(), (tmp_ / "a/usr/bin/gunzip").c_str()), 0);
  ASSERT_EQ(::link((tmp_ / "a/usr/bin/gzip").c_str(), (tmp_ / "a/usr/bin/zcat").c_str()), 0);
  MergeOk(Req({{"", tmp_ / "a"}}));
  struct stat a, b;
  ASSERT_EQ(::stat(Dest("usr/bin/gzip").c_str(), &a), 0);
  ASSERT_EQ(::stat(Dest("usr/bin/zcat").c_str(), &b), 0);
  EXPECT_EQ(a.st_ino, b.st_ino);
  EXPECT_EQ(a.st_nlink, 3u);  // the image's names are gone
}

// The database records where the package came from; another origin is a
// collision unless the request says replace.
TEST_F(Merge, AnotherOriginNeedsReplace) {
  Write(tmp_ / "a/usr/share/foo/a", "a");
  auto r = Req({{"", tmp_ / "a"}});
  r.origin = "recipe /r/foo.json";
  MergeOk(r);
  Write(tmp_ / "b/usr/share/foo/b", "b");
  r = Req({{"", tmp_ / "b"}});
  r.origin = "recipe /other/foo.json";
  auto rep = MergeImages(r);
  ASSERT_TRUE(rep.ok()) << rep.error().Message();
  ASSERT_EQ(rep->collisions.size(), 1u);
  EXPECT_EQ(rep->collisions[0].path, "/var/lib/nsbuild/foo.json");
  EXPECT_TRUE(fs::exists(Dest("usr/share/foo/a")));
  EXPECT_FALSE(fs::exists(Dest("usr/share/foo/b")));
  r.replace = true;
  MergeOk(r);
  EXPECT_FALSE(fs::exists(Dest("usr/share/foo/a")));
  EXPECT_TRUE(fs::exists(Dest("usr/share/foo/b")));
  // The same origin upgrades without asking.
  Write(tmp_ / "c/usr/share/foo/c", "c");
  r = Req({{"", tmp_ / "c"}});
  r.origin = "recipe /other/foo.json";
  MergeOk(r);
  EXPECT_TRUE(fs::exists(Dest("usr/share/foo/c")));
}

}  // namespace
}  // namespace nsbuild::merge
