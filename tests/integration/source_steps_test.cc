// The source as a real package has it: an archive checked against its
// sha256 before unpacking, a zip, an archive of no known kind, patches (a
// quilt series) and a prepare phase run once before the implementations'
// copies.
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/integration/build_util.h"
#include "tests/support/harness.h"

namespace nsbuild::testing {
namespace {

namespace fs = std::filesystem;

std::string Sha256(const std::string& path) {
  auto r = RunCommand({"sha256sum", path});
  return r.out.substr(0, 64);
}

// A tree pkg-1/hello.txt packed as `kind` (tar.gz or zip) at dir/NAME.
void Pack(const TempDir& dir, const std::string& name) {
  Write(dir / "pack/pkg-1/hello.txt", "hello\n");
  std::vector<std::string> argv = {"tar", "-czf", dir / name, "-C", dir / "pack", "pkg-1"};
  if (name.ends_with(".zip"))
    argv = {"bsdtar", "-a", "-cf", dir / name, "-C", dir / "pack", "pkg-1"};
  ASSERT_EQ(RunCommand(argv).status, 0);
}

std::string RecipeFor(const std::string& source, const std::string& extra) {
  return R"({"name": "t", "version": "1", "source": ")" + source +
         R"(", "implementations": ["a", "b"],
    "define_implementations": {"a": {"program": "/bin/sh"}, "b": {"program": "/bin/sh"}},
    "phases": {"install": "mkdir -p $D/usr/share/t && cp hello.txt $D/usr/share/t/"})" +
         extra + "}";
}

TEST(SourceSteps, Sha256IsCheckedBeforeUnpacking) {
  TempDir dir;
  Pack(dir, "pkg.tar.gz");
  std::string good = Sha256(dir / "pkg.tar.gz");
  Write(dir / "ok.json", RecipeFor("pkg.tar.gz", R"(, "sha256": ")" + good + "\""));
  auto ok = Nsbuild({"build", dir / "ok.json", "--work-dir", dir / "w"});
  EXPECT_EQ(ok.status, 0) << ok.err;
  std::string bad(64, '0');
  Write(dir / "bad.json", RecipeFor("pkg.tar.gz", R"(, "sha256": ")" + bad + "\""));
  auto r = Nsbuild({"build", dir / "bad.json", "--work-dir", dir / "w2"});
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find("sha256 mismatch: the recipe says " + bad + ", the file has " + good),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(dir / "w2/source/pkg-1"));  // nothing unpacked
}

TEST(SourceSteps, ZipIsUnpackedAndOtherFilesAreUnsupported) {
  if (!fs::exists("/usr/bin/bsdtar")) GTEST_SKIP() << "needs bsdtar (libarchive-tools)";
  TempDir dir;
  Pack(dir, "pkg.zip");
  Write(dir / "zip.json", RecipeFor("pkg.zip", ""));
  auto r = Nsbuild({"build", dir / "zip.json", "--work-dir", dir / "w"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(Read(dir / "w/targets/a/image/usr/share/t/hello.txt"), "hello\n");
  Write(dir / "junk.bin", "not an archive at all\n");
  Write(dir / "junk.json", RecipeFor("junk.bin", ""));
  auto junk = Nsbuild({"build", dir / "junk.json", "--work-dir", dir / "w2"});
  EXPECT_EQ(junk.status, 2);
  EXPECT_NE(junk.err.find("unsupported archive"), std::string::npos) << junk.err;
}

TEST(SourceSteps, PatchesAndPrepareRunOnceBeforeTheCopies) {
  TempDir dir;
  Pack(dir, "pkg.tar.gz");
  Write(dir / "debian/patches/series", "# Debian's\nwords.diff\n");
  Write(dir / "debian/patches/words.diff",
        "--- a/hello.txt\n+++ b/hello.txt\n@@ -1 +1 @@\n-hello\n+hello, patched\n");
  // prepare sees the patched source, writable, once: a second run would append twice.
  Write(dir / "p.json", RecipeFor("pkg.tar.gz", R"(, "patches": ["debian/patches/series"],
      "prepare": ["test -w \"$S\"", "echo prepared >> hello.txt"])"));
  auto r = Nsbuild({"build", dir / "p.json", "--work-dir", dir / "w"});
  ASSERT_EQ(r.status, 0) << r.err;
  for (const char* impl : {"a", "b"}) {
    EXPECT_EQ(Read(dir / ("w/targets/" + std::string(impl) + "/image/usr/share/t/hello.txt")),
              "hello, patched\nprepared\n");
  }
  // A patch that does not apply fails the build and says which one.
  Write(dir / "debian/patches/words.diff",
        "--- a/hello.txt\n+++ b/hello.txt\n@@ -1 +1 @@\n-goodbye\n+hello, patched\n");
  auto bad = Nsbuild({"build", dir / "p.json", "--work-dir", dir / "w2"});
  EXPECT_EQ(bad.status, 1);
  EXPECT_NE(bad.err.find("patch debian/patches/words.diff does not apply"), std::string::npos)
      << bad.err;
  // A missing one is found before any work.
  Write(dir / "m.json", RecipeFor("pkg.tar.gz", R"(, "patches": ["nope.diff"])"));
  auto missing = Nsbuild({"build", dir / "m.json", "--work-dir", dir / "w3"});
  EXPECT_EQ(missing.status, 2);
  EXPECT_NE(missing.err.find("patch nope.diff"), std::string::npos) << missing.err;
  EXPECT_FALSE(fs::exists(dir / "w3/source"));
}

}  // namespace
}  // namespace nsbuild::testing
