// Python metadata several implementations share (merge/dist_info.h): the
// merged RECORD lists every implementation's files with the merged hashes,
// WHEEL every tag, and nothing is left to the preference order.
#include <gtest/gtest.h>

#include "base/sha256.h"
#include "merge/content.h"
#include "merge/dist_info.h"
#include "merge/merge.h"
#include "tests/unit/merge_fixture.h"

namespace nsbuild::merge {
namespace {

using testing::Read;
using testing::TempDir;
using testing::Write;

constexpr const char* kSite = "usr/lib/python3/dist-packages/";

TEST(DistInfo, RecordFieldsAndHashes) {
  EXPECT_EQ(RecordFields("a/b.py,sha256=xyz,12"),
            (std::vector<std::string>{"a/b.py", "sha256=xyz", "12"}));
  EXPECT_EQ(RecordFields("\"a,\"\"b\"\".py\",,"), (std::vector<std::string>{"a,\"b\".py", "", ""}));
  // sha256("hello") in the wheel's form: urlsafe base64, no padding.
  EXPECT_EQ(RecordHash(base::Sha256Hex("hello")),
            "sha256=LPJNul-wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ");
}

TEST(DistInfo, WheelGetsEveryTagAndTellsTheRest) {
  std::string odd;
  std::string w =
      MergeWheel({"Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: cp311-cp311-x\n",
                  "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: pp39-pypy39_pp73-x\n"},
                 &odd);
  EXPECT_EQ(
      w,
      "Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: cp311-cp311-x\nTag: pp39-pypy39_pp73-x\n");
  EXPECT_EQ(odd, "");
  MergeWheel({"Generator: a\nTag: t\n", "Generator: b\nTag: t\n"}, &odd);
  EXPECT_EQ(odd, "Generator: b");
}

void Image(const TempDir& t, const std::string& impl, const std::string& ext) {
  std::string site = t / (impl + "/" + kSite);
  Write(site + "pkg/__init__.py", "x = 1\n");
  Write(site + "pkg/" + ext, "ELF of " + impl);
  Write(site + "pkg-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\nTag: " + impl + "-tag\n");
  Write(site + "pkg-1.0.dist-info/RECORD",
        "pkg/__init__.py,sha256=forged,6\npkg/" + ext +
            ",sha256=forged,1\n"
            "pkg-1.0.dist-info/WHEEL,sha256=forged,1\npkg-1.0.dist-info/RECORD,,\n"
            "../../../../etc/passwd,sha256=x,1\n");
}

TEST(DistInfo, MergedRecordListsEveryImplementationsFiles) {
  TempDir tmp, dest;
  Image(tmp, "cp", "ext.cpython-311.so");
  Image(tmp, "pp", "ext.pypy39-pp73.so");
  MergeRequest r;
  r.dest = dest.path();
  r.package = "pkg";
  r.images = {{"pp", tmp / "pp"}, {"cp", tmp / "cp"}};
  r.impl_order = {"cp", "pp"};
  auto rep = MergeImages(r);
  ASSERT_TRUE(rep.ok()) << rep.error().Message();
  EXPECT_TRUE(rep->merged);
  EXPECT_TRUE(rep->preferred.empty()) << rep->preferred[0].path;
  std::string site = dest / kSite;
  std::string record = Read(site + "pkg-1.0.dist-info/RECORD");
  std::string wheel = Read(site + "pkg-1.0.dist-info/WHEEL");
  EXPECT_EQ(wheel, "Wheel-Version: 1.0\nTag: cp-tag\nTag: pp-tag\n");
  auto row = [](const std::string& path, const std::string& content) {
    return path + "," + RecordHash(base::Sha256Hex(content)) + "," +
           std::to_string(content.size()) + "\n";
  };
  EXPECT_EQ(record, row("pkg/__init__.py", "x = 1\n") + row("pkg/ext.cpython-311.so", "ELF of cp") +
                        row("pkg-1.0.dist-info/WHEEL", wheel) + "pkg-1.0.dist-info/RECORD,,\n" +
                        row("pkg/ext.pypy39-pp73.so", "ELF of pp"));
}

}  // namespace
}  // namespace nsbuild::merge
