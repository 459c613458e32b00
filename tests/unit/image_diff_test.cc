// Canonical image comparison: what counts as a difference and what does not.
#include "merge/image_diff.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utime.h>

#include <filesystem>
#include <fstream>

namespace nsbuild::merge {
namespace {

namespace fs = std::filesystem;

class ImageDiffTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/nsbuild-diff.XXXXXX";
    root_ = mkdtemp(tmpl);
    for (const char* side : {"/a", "/b"}) {
      fs::create_directories(root_ + side + "/usr/bin");
      Write(std::string(side) + "/usr/bin/tool", "#!/bin/sh\necho hi\n", 0755);
      Write(std::string(side) + "/usr/data", "same\n", 0644);
    }
  }
  void TearDown() override { fs::remove_all(root_); }
  void Write(const std::string& rel, const std::string& text, mode_t mode) {
    std::ofstream(root_ + rel) << text;
    chmod((root_ + rel).c_str(), mode);
  }
  ImageDiff Diff(DiffOptions o = {}) {
    auto d = DiffImages(root_ + "/a", root_ + "/b", o);
    EXPECT_TRUE(d.ok()) << d.error().Message();
    return d.ok() ? *d : ImageDiff{};
  }
  std::string root_;
};

TEST_F(ImageDiffTest, IdenticalTreesHaveEqualDigests) {
  auto d = Diff();
  EXPECT_TRUE(d.same());
  EXPECT_EQ(d.digest_a, d.digest_b);
  EXPECT_EQ(d.digest_a.size(), 64u);
}

TEST_F(ImageDiffTest, MtimeCountsOnlyWhenAsked) {
  struct utimbuf t = {1000, 1000};
  utime((root_ + "/b/usr/data").c_str(), &t);
  EXPECT_TRUE(Diff().same());
  auto d = Diff(DiffOptions{false, true});
  ASSERT_EQ(d.diffs.size(), 1u);
  EXPECT_EQ(d.diffs[0].path, "usr/data");
  EXPECT_EQ(d.diffs[0].what.rfind("mtime ", 0), 0u);
}

TEST_F(ImageDiffTest, ModeContentSymlinkAndPresence) {
  chmod((root_ + "/b/usr/bin/tool").c_str(), 0700);
  Write("/b/usr/data", "different\n", 0644);
  fs::remove(root_ + "/b/usr/bin/tool");
  symlink("../data", (root_ + "/b/usr/bin/tool").c_str());
  Write("/a/usr/only-a", "x", 0644);
  auto d = Diff();
  ASSERT_EQ(d.diffs.size(), 3u);
  EXPECT_EQ(d.diffs[0].path, "usr/bin/tool");
  EXPECT_EQ(d.diffs[0].what, "type file vs symlink");
  EXPECT_EQ(d.diffs[1].path, "usr/data");
  EXPECT_EQ(d.diffs[1].what, "content");
  EXPECT_EQ(d.diffs[2].path, "usr/only-a");
  EXPECT_EQ(d.diffs[2].what, "only in A");
  EXPECT_NE(d.digest_a, d.digest_b);
}

TEST_F(ImageDiffTest, ModeChangeAloneIsADifference) {
  chmod((root_ + "/b/usr/data").c_str(), 0600);
  auto d = Diff();
  ASSERT_EQ(d.diffs.size(), 1u);
  EXPECT_EQ(d.diffs[0].what, "mode 0644 vs 0600");
}

TEST_F(ImageDiffTest, DescribesTextAndBinaryDifferences) {
  Write("/b/usr/data", "changed\n", 0644);
  std::string text = DescribeFileDifference(root_ + "/a", root_ + "/b", "usr/data");
  EXPECT_NE(text.find("-same"), std::string::npos) << text;
  EXPECT_NE(text.find("+changed"), std::string::npos) << text;
  Write("/a/usr/bin.dat", std::string("ab\0cd", 5), 0644);
  Write("/b/usr/bin.dat", std::string("ab\0xd", 5), 0644);
  EXPECT_EQ(DescribeFileDifference(root_ + "/a", root_ + "/b", "usr/bin.dat"),
            "    binary: 5 vs 5 bytes, first difference at byte offset 3\n");
}

}  // namespace
}  // namespace nsbuild::merge
