// The on-disk formats (database, journal) and the wrapper helpers.
#include <gtest/gtest.h>

#include "merge/database.h"
#include "merge/journal.h"
#include "merge/wrappers.h"

namespace nsbuild::merge {
namespace {

TEST(Database, RoundTripsEveryFieldAndOddNames) {
  PackageDb db;
  db.package = "foo";
  DbRecord dir{"/usr/share/q\"uote\\back", EntryType::kDir, 01755};
  DbRecord file{"/usr/bin/x", EntryType::kFile, 0755, 12, std::string(64, 'a'), 99, "", "py311"};
  DbRecord link{"/usr/lib/l.so", EntryType::kSymlink, 0777, 0, "", 7, "l.so.1"};
  link.shared = true;
  db.records = {dir, file, link};
  auto back = ParseDb(SerializeDb(db), "t");
  ASSERT_TRUE(back.ok()) << back.error().Message();
  ASSERT_EQ(back->records.size(), 3u);
  EXPECT_EQ(back->records[0].path, dir.path);
  EXPECT_EQ(back->records[0].perm, 01755u);
  EXPECT_EQ(back->records[1].sha256, file.sha256);
  EXPECT_EQ(back->records[1].impl, "py311");
  EXPECT_EQ(back->records[1].size, 12);
  EXPECT_EQ(back->records[2].target, "l.so.1");
  EXPECT_TRUE(back->records[2].shared);
  // The origin (issue 13): absent in older databases, kept when present.
  EXPECT_EQ(back->origin, "");
  db.origin = "recipe /r/\"odd\".json";
  db.origin_sha256 = std::string(64, 'b');
  back = ParseDb(SerializeDb(db), "t");
  ASSERT_TRUE(back.ok()) << back.error().Message();
  EXPECT_EQ(back->origin, db.origin);
  EXPECT_EQ(back->origin_sha256, db.origin_sha256);
}

TEST(Database, RejectsUnknownKeysAndBadNames) {
  auto bad = ParseDb(R"({"format": 1, "package": "x", "files": [{"path": "/a", "type": "file",
    "mode": "0644", "colour": "red"}]})",
                     "x.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().Message().find("$.files[0].colour"), std::string::npos)
      << bad.error().Message();
  EXPECT_FALSE(ValidatePackageName("../etc").ok());
  EXPECT_FALSE(ValidatePackageName(".hidden").ok());
  EXPECT_FALSE(ValidatePackageName("").ok());
  EXPECT_TRUE(ValidatePackageName("py-foo_1.2+b").ok());
}

TEST(Journal, RoundTripsAndRefusesEscapingPaths) {
  Journal j;
  j.package = "foo";
  j.committed = true;
  j.ops = {{OpKind::kMkdir, "usr/x", -1, 0755},
           {OpKind::kReplace, "usr/x/a"},
           {OpKind::kRemove, "usr/y"},
           {OpKind::kRmdir, "usr/z", -1, 0700}};
  auto back = ParseJournal(SerializeJournal(j), "j");
  ASSERT_TRUE(back.ok()) << back.error().Message();
  EXPECT_TRUE(back->committed);
  ASSERT_EQ(back->ops.size(), 4u);
  EXPECT_EQ(back->ops[0].perm, 0755u);
  EXPECT_EQ(back->ops[3].kind, OpKind::kRmdir);
  auto evil = ParseJournal(R"({"format": 1, "package": "foo", "state": "prepared",
    "delete_db": false, "ops": [{"op": "add", "path": "usr/../../etc/passwd"}]})",
                           "j");
  EXPECT_FALSE(evil.ok());
}

TEST(Wrappers, ShebangsAndRelativeTargets) {
  EXPECT_TRUE(ShebangNames("#!/usr/bin/py311\n", "py311"));
  EXPECT_TRUE(ShebangNames("#! /usr/bin/env -S py311 -u\n", "py311"));
  EXPECT_FALSE(ShebangNames("#!/usr/bin/python3\n", "py311"));
  EXPECT_FALSE(ShebangNames("#!/usr/bin/env\n", "py311"));
  EXPECT_FALSE(
      ShebangNames("\x7f"
                   "ELF",
                   "py311"));
  EXPECT_EQ(RelativeTarget("usr/bin", "usr/lib/nsbuild-exec/nsbuild-exec"),
            "../lib/nsbuild-exec/nsbuild-exec");
  EXPECT_EQ(RelativeTarget("usr/local/bin", "usr/lib/nsbuild-exec/nsbuild-exec"),
            "../../lib/nsbuild-exec/nsbuild-exec");
  EXPECT_EQ(RelativeTarget("bin", "usr/lib/x"), "../usr/lib/x");
  EXPECT_EQ(RelativeTarget("usr/libexec", "usr/lib/x"), "../lib/x");
}

}  // namespace
}  // namespace nsbuild::merge
