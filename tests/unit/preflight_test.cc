#include "builder/preflight.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace nsbuild::builder {
namespace {

std::string TempDir() {
  std::string tmpl = ::testing::TempDir() + "/preflight.XXXXXX";
  EXPECT_NE(::mkdtemp(tmpl.data()), nullptr);
  ::chmod(tmpl.c_str(), 0755);  // mkdtemp's 0700 would be the private dir
  return std::filesystem::path(tmpl).lexically_normal().string();
}

TEST(Preflight, DestExistingMissingAndUncreatable) {
  std::string top = TempDir();
  EXPECT_TRUE(CheckDest(""));
  EXPECT_TRUE(CheckDest(top));
  EXPECT_TRUE(CheckDest(top + "/new"));  // its parent is there
  auto deep = CheckDest(top + "/a/b");
  ASSERT_FALSE(deep);
  EXPECT_NE(deep.error().Message().find("mkdir -p " + top + "/a/b"), std::string::npos)
      << deep.error().Message();
  std::ofstream(top + "/file") << "x";
  auto file = CheckDest(top + "/file");
  ASSERT_FALSE(file);
  EXPECT_NE(file.error().Message().find("not a directory"), std::string::npos);
}

TEST(Preflight, PrepareDestCreatesAMissingDestination) {
  std::string top = TempDir();
  ASSERT_TRUE(PrepareDest(top + "/dest"));
  struct stat st = {};
  ASSERT_EQ(::stat((top + "/dest").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_TRUE(PrepareDest(top + "/dest"));  // and takes an existing one
  EXPECT_FALSE(PrepareDest(top + "/x/y"));
}

TEST(Preflight, CanSearchFollowsOwnerGroupOther) {
  EXPECT_TRUE(CanSearch(0700, 5, 5, 5, 9));
  EXPECT_FALSE(CanSearch(0700, 5, 5, 6, 5));
  EXPECT_TRUE(CanSearch(0710, 5, 7, 6, 7));
  EXPECT_FALSE(CanSearch(0770 & ~0010, 5, 7, 6, 7));
  EXPECT_TRUE(CanSearch(0701, 5, 7, 6, 8));
  EXPECT_FALSE(CanSearch(0750, 5, 7, 6, 8));
  // The owner's bits decide for the owner, even when "other" could search.
  EXPECT_FALSE(CanSearch(0601, 5, 7, 5, 8));
}

TEST(Preflight, WorkDirUnderAPrivateDirIsNamed) {
  std::string top = TempDir();
  std::string priv = top + "/private";
  ASSERT_EQ(::mkdir(priv.c_str(), 0700), 0);
  uid_t other = ::geteuid() + 4242;
  auto st = CheckWorkDirReachable(priv + "/work", other, ::getegid() + 4242);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().Message().find("cannot search " + priv + " (mode 0700)"), std::string::npos)
      << st.error().Message();
  // Our own ids: nothing to check (the sandbox maps only us).
  EXPECT_TRUE(CheckWorkDirReachable(priv + "/work", ::geteuid(), ::getegid()));
  ASSERT_EQ(::chmod(priv.c_str(), 0711), 0);
  // The temp dir's own ancestors may be private to us on a developer's box.
  auto open = CheckWorkDirReachable(priv + "/work", other, ::getegid() + 4242);
  if (!open) {
    EXPECT_EQ(open.error().Message().find(priv + " (mode"), std::string::npos);
  }
}

TEST(Preflight, AMissingDefinedProgramIsNamed) {
  Recipe r;
  r.path = "/r/recipe.json";
  r.implementations = {"lua"};
  r.generic_impls = {{"lua", "/nonexistent/bin/lua5.4", {}}, {"sh", "/bin/sh", {}}};
  auto st = CheckGenericPrograms(r, {});
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().Message().find("define_implementations.lua.program /nonexistent/bin/lua5.4"),
            std::string::npos)
      << st.error().Message();
  EXPECT_TRUE(CheckGenericPrograms(r, {"sh"}));  // --impl sh: lua is not used
  r.implementations = {"sh"};
  EXPECT_TRUE(CheckGenericPrograms(r, {}));
}

TEST(Preflight, PackageNamesTheMergerRefuses) {
  EXPECT_TRUE(CheckPackageName("markupsafe"));
  EXPECT_FALSE(CheckPackageName(".hidden"));
  EXPECT_FALSE(CheckPackageName("a/b"));
  EXPECT_FALSE(CheckPackageName(std::string(129, 'a')));
}

TEST(Preflight, AddWriteThatWouldHideTheViewIsRefused) {
  std::string top = TempDir();
  ASSERT_EQ(::mkdir((top + "/include").c_str(), 0755), 0);
  sandbox::Policy p;
  sandbox::MountOp usr;
  usr.source = top;  // stands for the host's /usr
  usr.target = "/usr";
  p.ro_binds.push_back(usr);
  auto hides = CheckAddWrite(p, {{"/usr/include", "headers"}}, "r.json");
  ASSERT_FALSE(hides);
  EXPECT_NE(hides.error().Message().find("addwrite /usr/include: the sandbox's read-only view has "
                                         "/usr/include (the host's " +
                                         top + "/include)"),
            std::string::npos)
      << hides.error().Message();
  // A parent of a bound tree would cover all of it.
  auto covers = CheckAddWrite(p, {{"/", "x"}}, "r.json");
  EXPECT_FALSE(covers);
  // A path the view does not have, and one under /usr the host lacks, are fine.
  EXPECT_TRUE(CheckAddWrite(p, {{"/var/cache/fontconfig", "fc-cache"}}, "r.json"));
  EXPECT_TRUE(CheckAddWrite(p, {{"/usr/nsbuild-none", "x"}}, "r.json"));
}

}  // namespace
}  // namespace nsbuild::builder
