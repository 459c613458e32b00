// The order of the merger's durability barriers, which no SIGKILL sweep can
// see (a killed process loses nothing the kernel already has; a power cut
// loses what was never synced). The merge runs under strace; in the order of
// its system calls:
//   journal "prepared" renamed into place before the first change to DEST;
//   after the last change, syncfs(DEST) and fsync of the new database file
//   before the rename that marks the journal "committed";
//   the database renamed into place only after that commit, and the journal
//   removed only after a second syncfs(DEST).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/support/harness.h"
#include "tests/unit/merge_fixture.h"

namespace nsbuild::testing {
namespace {

namespace fs = std::filesystem;

constexpr const char* kStrace = "/usr/bin/strace";

struct Call {
  std::string line;
  bool Is(const std::string& name) const {
    size_t at = line.find(name + "(");
    return at != std::string::npos && (at == 0 || line[at - 1] == ' ' || line[at - 1] == ']');
  }
  bool Has(const std::string& s) const { return line.find(s) != std::string::npos; }
};

std::vector<Call> TraceMerge(const std::string& dest, const std::string& image) {
  TempDir trace_dir;
  std::string out = trace_dir.path() + "/trace";
  auto r =
      RunCommand({kStrace, "-f", "-qq", "-y", "-e", "signal=none", "-e",
                  "trace=syncfs,fsync,fdatasync,sync,rename,renameat,renameat2,link,linkat,"
                  "unlink,unlinkat",
                  "-o", out, NsbuildBin(), "merge", "--dest", dest, "--package", "foo", image});
  EXPECT_EQ(r.status, 0) << r.err;
  std::ifstream in(out);
  std::vector<Call> calls;
  std::string line;
  while (std::getline(in, line)) {
    if (line.find("= -1") != std::string::npos) continue;  // failed calls change nothing
    calls.push_back({line});
  }
  return calls;
}

// Index of the first call after `from` satisfying pred, or npos.
template <typename Pred>
size_t Find(const std::vector<Call>& calls, size_t from, Pred pred) {
  for (size_t i = from; i < calls.size(); ++i) {
    if (pred(calls[i])) return i;
  }
  return std::string::npos;
}

TEST(MergeDurability, BarriersComeBeforeTheRenameThatCommits) {
  if (access(kStrace, X_OK) != 0) GTEST_SKIP() << "strace is not installed";
  TempDir s;
  std::string image = s.path() + "/image";
  merge::testing::Write(image + "/usr/bin/tool", "#!/bin/sh\n", 0755);
  merge::testing::Write(image + "/usr/share/foo/a", "a");
  merge::testing::Write(image + "/etc/foo.conf", "conf\n");
  fs::create_directories(s.path() + "/dest");
  std::string dest = fs::canonical(s.path() + "/dest").string();
  auto calls = TraceMerge(dest, image);
  ASSERT_FALSE(calls.empty());
  std::string all;
  for (const auto& c : calls) all += c.line + "\n";

  auto journal_rename = [](const Call& c) {
    return (c.Is("rename") || c.Is("renameat") || c.Is("renameat2")) &&
           c.Has("\".journal.json.tmp\"") && c.Has("\".journal.json\"");
  };
  auto dest_change = [&](const Call& c) {
    bool call =
        c.Is("link") || c.Is("linkat") || c.Is("rename") || c.Is("renameat") || c.Is("renameat2");
    return call && c.Has("<" + dest + "/") && !c.Has("/var/lib/nsbuild>") && !c.Has(".journal");
  };
  auto syncfs_dest = [&](const Call& c) { return c.Is("syncfs") && c.Has("<" + dest + ">"); };
  auto fsync_db = [&](const Call& c) {
    return (c.Is("fsync") || c.Is("fdatasync")) && c.Has("/var/lib/nsbuild/foo.json.new>");
  };

  size_t prepared = Find(calls, 0, journal_rename);
  ASSERT_NE(prepared, std::string::npos) << all;
  size_t committed = Find(calls, prepared + 1, journal_rename);
  ASSERT_NE(committed, std::string::npos) << "no second journal rename\n" << all;
  EXPECT_EQ(Find(calls, committed + 1, journal_rename), std::string::npos) << all;

  size_t first_change = Find(calls, 0, dest_change);
  ASSERT_NE(first_change, std::string::npos) << "nothing was linked into " << dest << "\n" << all;
  EXPECT_GT(first_change, prepared) << "DEST changed before the journal was durable\n" << all;
  size_t last_change = first_change;
  for (size_t i = first_change; i < committed; ++i) {
    if (dest_change(calls[i])) last_change = i;
  }
  // The journal's own bytes are fsynced before each of its renames.
  for (size_t j : {prepared, committed}) {
    bool synced = false;
    for (size_t i = 0; i < j; ++i) {
      synced = synced || ((calls[i].Is("fsync") || calls[i].Is("fdatasync")) &&
                          calls[i].Has("/var/lib/nsbuild/.journal.json.tmp>"));
    }
    EXPECT_TRUE(synced) << "journal not fsynced before line " << j << "\n" << all;
  }
  size_t sync = Find(calls, last_change + 1, syncfs_dest);
  EXPECT_LT(sync, committed) << "no syncfs of DEST between the last change and the commit\n" << all;
  size_t db = Find(calls, last_change + 1, fsync_db);
  EXPECT_LT(db, committed) << "the new database was not fsynced before the commit\n" << all;

  // After the commit: the database goes into place, DEST is synced again,
  // and only then the journal goes.
  size_t db_rename = Find(calls, committed + 1, [](const Call& c) {
    return (c.Is("renameat") || c.Is("rename") || c.Is("renameat2")) && c.Has("\"foo.json.new\"") &&
           c.Has("\"foo.json\"");
  });
  ASSERT_NE(db_rename, std::string::npos) << all;
  size_t journal_gone = Find(calls, committed + 1, [](const Call& c) {
    return (c.Is("unlinkat") || c.Is("unlink")) && c.Has("\".journal.json\"");
  });
  ASSERT_NE(journal_gone, std::string::npos) << all;
  EXPECT_GT(journal_gone, db_rename) << all;
  size_t resync = Find(calls, db_rename + 1, syncfs_dest);
  EXPECT_LT(resync, journal_gone) << "the journal was removed before DEST was synced again\n"
                                  << all;
}

}  // namespace
}  // namespace nsbuild::testing
