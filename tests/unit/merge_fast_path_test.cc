// The merger's per-file shortcuts keep every check: an image's symlink is
// linked only as the inode that was scanned with the target that was
// checked, a file whose sealing changed nothing is pinned by the fstat that
// checked it (and a change after hashing is still refused), links made on
// several threads are all undone when one fails, and retiring removes a
// tree of many directories, level by level on several threads.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "merge/checks.h"
#include "merge/merge.h"
#include "tests/unit/merge_fixture.h"

namespace nsbuild::merge {
namespace {

using testing::Read;
using testing::TempDir;
using testing::Write;
namespace fs = std::filesystem;

class FastPath : public ::testing::Test {
 protected:
  MergeRequest Req() {
    MergeRequest r;
    r.dest = dest_.path();
    r.package = "fast";
    r.images = {{"", img_.path()}};
    return r;
  }
  std::string Img(const std::string& rel) const { return img_ / rel; }
  std::string Dest(const std::string& rel) const { return dest_ / rel; }
  TempDir img_, dest_;
};

TEST_F(FastPath, ImageSymlinkIsInstalledWithItsCheckedTarget) {
  Write(Img("usr/bin/tool"), "#!/bin/sh\n", 0755);
  fs::create_symlink("tool", Img("usr/bin/tool2"));
  struct stat before;
  ASSERT_EQ(::lstat(Img("usr/bin/tool2").c_str(), &before), 0);
  auto rep = MergeImages(Req());
  ASSERT_TRUE(rep.ok()) << rep.error().Message();
  ASSERT_TRUE(rep->merged);
  struct stat after;
  ASSERT_EQ(::lstat(Dest("usr/bin/tool2").c_str(), &after), 0);
  EXPECT_TRUE(S_ISLNK(after.st_mode));
  EXPECT_EQ(fs::read_symlink(Dest("usr/bin/tool2")), "tool");
  // As root the sealed inode itself is linked, as cp -al does; without
  // root (no AT_EMPTY_PATH) a new symlink is made.
  if (testing::IsRoot()) {
    EXPECT_EQ(after.st_ino, before.st_ino);
    EXPECT_EQ(after.st_uid, 0u);
    EXPECT_EQ(after.st_nlink, 1u) << "the image's name of it was retired";
  }
}

TEST_F(FastPath, SymlinkSwappedAfterTheChecksIsNeverInstalled) {
  Write(Img("usr/bin/tool"), "#!/bin/sh\n", 0755);
  fs::create_symlink("tool", Img("usr/bin/tool2"));
  auto r = Req();
  r.before_execute = [&] {
    fs::remove(Img("usr/bin/tool2"));
    fs::create_symlink("/etc/shadow", Img("usr/bin/tool2"));
  };
  auto rep = MergeImages(r);
  if (testing::IsRoot()) {
    ASSERT_FALSE(rep.ok());
    EXPECT_NE(rep.error().Message().find("changed after it was checked (symlink)"),
              std::string::npos)
        << rep.error().Message();
    EXPECT_FALSE(fs::exists(Dest("usr/bin")));
    return;
  }
  // Unprivileged the checked target is written anew: the swap is harmless.
  ASSERT_TRUE(rep.ok()) << rep.error().Message();
  EXPECT_EQ(fs::read_symlink(Dest("usr/bin/tool2")), "tool");
}

// Files already the policy owner's (root's files when root, the caller's
// otherwise): sealing changes nothing, the checking fstat is the pin, and a
// change between hashing and linking is still caught, and named.
TEST_F(FastPath, UnsealedFileChangedAfterHashingIsRefused) {
  for (const char* how : {"size", "ctime"}) {
    TempDir img, dest;
    Write(img / "usr/share/x/data", "hashed");
    MergeRequest r;
    r.dest = dest.path();
    r.package = "fast";
    r.images = {{"", img.path()}};
    r.policy.owner_uid = ::geteuid();
    r.policy.owner_gid = ::getegid();
    std::string f = img / "usr/share/x/data";
    r.before_execute = [&] {
      ::chmod((img / "usr/share/x").c_str(), 0755);  // writable again when sealed read-only
      Write(f, std::string(how) == "size" ? "hashed and grown" : "HASHED");
    };
    auto rep = MergeImages(r);
    ASSERT_FALSE(rep.ok()) << how;
    EXPECT_NE(rep.error().Message().find("changed after it was checked (" + std::string(how)),
              std::string::npos)
        << rep.error().Message();
    EXPECT_FALSE(fs::exists(dest / "usr/share/x/data"));
  }
}

// Enough independent links for two lanes (transaction.cc: 2048 a lane):
// the first lane fails half-way on a name that appeared after planning,
// while the second has linked files of its own. Everything any lane did is
// undone, and the name that appeared is not ours to remove.
TEST_F(FastPath, FailureOnOneLaneUndoesWhatEveryLaneLinked) {
  char name[32];
  for (int i = 0; i < 4200; ++i) {
    std::snprintf(name, sizeof name, "usr/share/d%d/f%04d", i / 700, i % 700);
    Write(Img(name), name);
  }
  for (int d = 0; d < 6; ++d) fs::create_directories(Dest("usr/share/d" + std::to_string(d)));
  auto before = testing::Snapshot(dest_.path());
  auto r = Req();
  r.before_execute = [&] { Write(Dest("usr/share/d1/f0350"), "someone else's"); };
  auto rep = MergeImages(r);
  ASSERT_FALSE(rep.ok());
  EXPECT_NE(rep.error().Message().find("File exists"), std::string::npos) << rep.error().Message();
  EXPECT_NE(rep.error().Message().find("nothing was changed"), std::string::npos);
  EXPECT_EQ(Read(Dest("usr/share/d1/f0350")), "someone else's");
  auto after = testing::Snapshot(dest_.path());
  EXPECT_EQ(after.erase("usr/share/d1/f0350"), 1u);
  for (const char* db : {"var/lib/nsbuild", "var/lib", "var"}) after.erase(db);
  EXPECT_EQ(after, before);
}

TEST_F(FastPath, RetiringEmptiesATreeOfManyDirectoriesDeepestFirst) {
  // 3 levels of 12 directories each under several parents: every level is
  // split between threads, and a parent goes only after its children.
  for (int a = 0; a < 12; ++a) {
    for (int b = 0; b < 3; ++b) {
      for (int c = 0; c < 4; ++c) {
        std::string d = "usr/share/t/a" + std::to_string(a) + "/b" + std::to_string(b) + "/c" +
                        std::to_string(c);
        Write(Img(d + "/f"), d);
      }
    }
  }
  fs::create_directories(Img("usr/share/t/empty/deeper/still"));
  auto rep = MergeImages(Req());
  ASSERT_TRUE(rep.ok()) << rep.error().Message();
  ASSERT_TRUE(rep->merged);
  EXPECT_EQ(rep->retire_error, "");
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(img_.path())) left.push_back(e.path().filename());
  EXPECT_EQ(left, std::vector<std::string>{kMergedMarker});
  EXPECT_EQ(Read(Dest("usr/share/t/a11/b2/c3/f")), "usr/share/t/a11/b2/c3");
  EXPECT_TRUE(fs::is_directory(Dest("usr/share/t/empty/deeper/still")));
}

}  // namespace
}  // namespace nsbuild::merge
