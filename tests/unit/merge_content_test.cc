// The content pass on several threads: every file hashed once, by the right
// worker, whatever the slicing. Also the test the TSan build runs
// (tests/run.sh, NSBUILD_TSAN): the hashing threads are the merger's only
// ones.
#include <gtest/gtest.h>

#include "base/sha256.h"
#include "merge/content.h"
#include "merge/merge.h"
#include "tests/unit/merge_fixture.h"

namespace nsbuild::merge {
namespace {

using testing::TempDir;
using testing::Write;

// `count` files spread over a few directories, each with its own content.
void ManyFiles(const TempDir& t, int count) {
  for (int i = 0; i < count; ++i) {
    std::string dir = "usr/share/d" + std::to_string(i % 7);
    Write(t / (dir + "/f" + std::to_string(i)), "content of file " + std::to_string(i));
  }
}

// libcrypto is loaded on the first hash (base/sha256.cc): the digests are
// still SHA-256 (FIPS 180-2's examples), and a reset digest starts afresh.
TEST(Content, LazilyLoadedLibcryptoGivesSha256) {
  EXPECT_EQ(base::Sha256Hex(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(base::Sha256Hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  std::string million(1000000, 'a');
  EXPECT_EQ(base::Sha256Hex(million),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Content, SeveralThreadsHashEveryFileOnce) {
  TempDir img;
  ManyFiles(img, 700);  // enough files for every worker to get a slice
  for (int threads : {1, 3, 8}) {
    auto scanned = ScanImage(img.path(), "", ScanLimits{});
    ASSERT_TRUE(scanned.ok()) << scanned.error().Message();
    std::vector<Finding> notices;
    ContentOptions opts;
    opts.threads = threads;
    auto st = ReadContents(*scanned, MergePolicy{}, opts, &notices);
    ASSERT_TRUE(st.ok()) << st.error().Message();
    int files = 0;
    for (const auto& e : scanned->entries) {
      if (e.type != EntryType::kFile) continue;
      ++files;
      std::string n = e.path.substr(e.path.rfind("/f") + 2);
      EXPECT_EQ(e.sha256, base::Sha256Hex("content of file " + n))
          << e.path << " threads=" << threads;
    }
    EXPECT_EQ(files, 700);
  }
}

TEST(Content, ChangedFileFailsWhicheverThreadFindsIt) {
  TempDir img;
  ManyFiles(img, 400);
  auto scanned = ScanImage(img.path(), "", ScanLimits{});
  ASSERT_TRUE(scanned.ok());
  // Grown after the scan, in the last worker's slice.
  Write(img / "usr/share/d6/f398", "grown after the scan, so the size differs");
  std::vector<Finding> notices;
  ContentOptions opts;
  opts.threads = 4;
  auto st = ReadContents(*scanned, MergePolicy{}, opts, &notices);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().Message().find("/usr/share/d6/f398"), std::string::npos)
      << st.error().Message();
  EXPECT_NE(st.error().Message().find("changed after it was scanned"), std::string::npos);
}

TEST(Content, MergeOfManyFilesUsesEveryCpu) {
  TempDir img, dest;
  ManyFiles(img, 500);
  MergeRequest r;
  r.dest = dest.path();
  r.package = "many";
  r.images = {{"", img.path()}};
  auto rep = MergeImages(r);
  ASSERT_TRUE(rep.ok()) << rep.error().Message();
  EXPECT_TRUE(rep->merged);
  EXPECT_EQ(testing::Read(dest / "usr/share/d3/f10"), "content of file 10");
}

}  // namespace
}  // namespace nsbuild::merge
