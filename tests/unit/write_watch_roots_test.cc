// The write watcher's roots are whole path components, never string
// prefixes: /tmpx is not inside /tmp, /dev/nullx is not /dev/null.
#include <gtest/gtest.h>

#include <algorithm>

#include "sandbox/write_watch.h"

namespace nsbuild::sandbox {
namespace {

TEST(WriteWatchRoots, ARootIsAWholeComponent) {
  WriteWatcher w({"/tmp", "/dev/null", "/work/", "/var/tmp/nsbuild/./build"});
  for (const char* inside : {"/tmp", "/tmp/", "/tmp/x", "/tmp/x/y", "/dev/null", "/work", "/work/a",
                             "/var/tmp/nsbuild/build", "/var/tmp/nsbuild/build/o"}) {
    EXPECT_TRUE(w.IsAllowed(inside)) << inside;
  }
  for (const char* outside :
       {"/tmpx", "/tmp.x", "/tm", "/", "/dev/nullx", "/dev/null2", "/dev/nul", "/dev", "/workx",
        "/work-other/a", "/var/tmp/nsbuild/buildx", "/var/tmp/nsbuild", "/etc/tmp"}) {
    EXPECT_FALSE(w.IsAllowed(outside)) << outside;
  }
}

TEST(WriteWatchRoots, PathsAreNormalisedLexically) {
  EXPECT_EQ(NormalisePath("/tmp/../etc/x"), "/etc/x");
  EXPECT_EQ(NormalisePath("//a/./b/"), "/a/b");
  EXPECT_EQ(NormalisePath("/.."), "/");
  EXPECT_EQ(NormalisePath("/a/b/../../.."), "/");
  EXPECT_EQ(NormalisePath(""), "/");
  EXPECT_EQ(NormalisePath("/tmp/..x"), "/tmp/..x");
  WriteWatcher w({"/tmp/../tmp/./"});
  EXPECT_TRUE(w.IsAllowed("/tmp/f"));
  EXPECT_FALSE(w.IsAllowed("/tmpx"));
}

TEST(WriteWatchRoots, TheRootDirectoryAllowsEverything) {
  WriteWatcher w({"/"});
  EXPECT_TRUE(w.IsAllowed("/"));
  EXPECT_TRUE(w.IsAllowed("/etc/passwd"));
}

TEST(WriteWatchRoots, NoRootsAllowNothing) {
  WriteWatcher w({});
  EXPECT_FALSE(w.IsAllowed("/"));
  EXPECT_FALSE(w.IsAllowed("/tmp"));
}

TEST(WriteWatchRoots, WritableRootsFollowThePlan) {
  SandboxSpec spec;
  MountOp bind{MountKind::kBind, "/host/work", "/work"};
  MountOp ro{MountKind::kRoBind, "/usr", "/usr"};
  MountOp tmp{MountKind::kTmpfs, "", "/tmp"};
  MountOp dev_tmpfs{MountKind::kTmpfs, "", "/dev"};
  MountOp dev_ro{MountKind::kRemountRo, "", "/dev"};
  MountOp devnode{MountKind::kBind, "/dev/null", "/dev/null"};
  devnode.allow_devices = true;
  spec.mounts = {ro, bind, tmp, dev_tmpfs, devnode, dev_ro};
  auto roots = WritableRoots(spec);
  auto has = [&](const std::string& r) {
    return std::find(roots.begin(), roots.end(), r) != roots.end();
  };
  EXPECT_TRUE(has("/work"));
  EXPECT_TRUE(has("/tmp"));
  EXPECT_TRUE(has("/dev/null"));  // the fixed device list, not the bind
  EXPECT_FALSE(has("/usr"));
  EXPECT_FALSE(has("/dev"));  // remounted read-only after setup
  WriteWatcher w(roots);
  EXPECT_FALSE(w.IsAllowed("/dev/nullx"));
  EXPECT_FALSE(w.IsAllowed("/dev/sda"));
  EXPECT_FALSE(w.IsAllowed("/tmpx"));
  EXPECT_FALSE(w.IsAllowed("/workx/f"));
  EXPECT_TRUE(w.IsAllowed("/work/f"));
}

}  // namespace
}  // namespace nsbuild::sandbox
