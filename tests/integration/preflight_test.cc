// Issue #14 item 4 end to end: what would fail only after the sandboxes ran
// is refused first, exit 2, with one line that says what to do.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "tests/integration/build_util.h"
#include "tests/support/harness.h"

namespace nsbuild::testing {
namespace {

namespace fs = std::filesystem;

TEST(Preflight, UncreatableDestIsRefusedBeforeAnySandbox) {
  TempDir dir;
  auto r = BuildShell(dir, R"({"compile": "true"})", {"--dest", dir / "no/such/dest"});
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find("mkdir -p " + dir / "no/such/dest"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "w/logs"));  // nothing ran
}

TEST(Preflight, MissingDefinedProgramIsNamed) {
  TempDir dir;
  Write(dir / "src/x", "");
  Write(dir / "r.json", R"({"name": "t", "version": "1", "source": "src",
    "implementations": ["lua"],
    "define_implementations": {"lua": {"program": "/usr/bin/nsbuild-no-such-lua"}},
    "phases": {"compile": "true"}})");
  auto r = Nsbuild({"build", dir / "r.json", "--work-dir", dir / "w"});
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find("define_implementations.lua.program /usr/bin/nsbuild-no-such-lua"),
            std::string::npos)
      << r.err;
}

TEST(Preflight, WorkDirTheSandboxCannotReachIsRefused) {
  if (!IsRoot()) GTEST_SKIP() << "a user's sandbox maps only that user: its own dirs are reachable";
  TempDir dir;
  ASSERT_EQ(::mkdir((dir / "private").c_str(), 0700), 0);
  Write(dir / "src/x", "");
  Write(dir / "r.json", ShellRecipe(R"({"compile": "true"})"));
  auto r = Nsbuild({"build", dir / "r.json", "--work-dir", dir / "private/w", "--impl", "a"});
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find("cannot search " + dir / "private" + " (mode 0700)"), std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(dir / "private/w/logs"));
  // verify's builds reach their work dirs through the same ids.
  auto v = Nsbuild({"verify", dir / "r.json", "--work-dir", dir / "private/v", "--impl", "a"});
  EXPECT_EQ(v.status, 2) << v.err;
  EXPECT_NE(v.err.find("cannot search " + dir / "private" + " (mode 0700)"), std::string::npos)
      << v.err;
  EXPECT_FALSE(fs::exists(dir / "private/v/logs"));
}

TEST(Preflight, MergeCreatesAMissingDestination) {
  TempDir dir;
  Write(dir / "img/usr/share/t/f", "x");
  auto r = Nsbuild({"merge", "--dest", dir / "dest", "--package", "t", dir / "img"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(fs::exists(dir / "dest/usr/share/t/f"));
  auto bad = Nsbuild({"merge", "--dest", dir / "d2", "--package", ".t", dir / "img"});
  EXPECT_EQ(bad.status, 2) << bad.err;
}

TEST(Preflight, AddWriteOverTheReadOnlyViewIsRefused) {
  TempDir dir;
  Write(dir / "src/x", "");
  Write(
      dir / "r.json",
      ShellRecipe(R"({"compile": "test -e /usr/include/stdio.h"})",
                  R"(, "addwrite": [{"path": "/usr/include", "reason": "a tool writes there"}])"));
  auto r = Nsbuild({"build", dir / "r.json", "--work-dir", dir / "w", "--impl", "a"});
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find("addwrite /usr/include: the sandbox's read-only view has /usr/include"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(dir / "w/logs"));
}

}  // namespace
}  // namespace nsbuild::testing
