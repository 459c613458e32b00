#include "builder/module_paths.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace nsbuild::builder {
namespace {

namespace fs = std::filesystem;

TEST(ModulePaths, ModuleDirsOfAnImage) {
  std::string tmpl = ::testing::TempDir() + "/module_paths.XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
  fs::create_directories(tmpl + "/usr/lib/pypy3.9/site-packages/pkg");
  fs::create_directories(tmpl + "/usr/lib/python3/dist-packages");
  fs::create_directories(tmpl + "/usr/lib/python3.11/site-packages");  // empty: not a finding
  fs::create_directories(tmpl + "/usr/bin");
  std::ofstream(tmpl + "/usr/lib/pypy3.9/site-packages/pkg/__init__.py") << "";
  std::ofstream(tmpl + "/usr/lib/python3/dist-packages/m.py") << "";
  std::ofstream(tmpl + "/usr/bin/tool") << "";
  int fd = ::open(tmpl.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  auto dirs = ModuleDirsOf(fd);
  ::close(fd);
  EXPECT_EQ(dirs, (std::set<std::string>{"/usr/lib/pypy3.9/site-packages",
                                         "/usr/lib/python3/dist-packages"}));
  fs::remove_all(tmpl);
}

TEST(ModulePaths, OnlyDirsOutsideTheImportPathsAreWarnedAbout) {
  std::vector<std::string> pypy = {"/usr/lib/pypy3.9", "/usr/local/lib/pypy3.9/dist-packages",
                                   "/usr/lib/python3/dist-packages"};
  auto w = MisplacedModuleDirs(
      "pypy3", {"/usr/lib/pypy3.9/site-packages", "/usr/lib/python3/dist-packages"}, pypy);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_NE(w[0].find("pypy3 installed Python modules into /usr/lib/pypy3.9/site-packages"),
            std::string::npos)
      << w[0];
  EXPECT_NE(w[0].find("/usr/lib/python3/dist-packages"), std::string::npos) << w[0];
  // A program that did not answer gives nothing to compare with.
  EXPECT_TRUE(MisplacedModuleDirs("pypy3", {"/x/site-packages"}, {}).empty());
}

TEST(ModulePaths, ImportPathsOfARealPython) {
  if (::access("/usr/bin/python3", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/python3";
  auto paths = ImportPaths("/usr/bin/python3");
  ASSERT_FALSE(paths.empty());
  for (const auto& p : paths) {
    EXPECT_EQ(p[0], '/') << p;
    EXPECT_EQ(p.find(".zip"), std::string::npos) << p;
  }
}

}  // namespace
}  // namespace nsbuild::builder
