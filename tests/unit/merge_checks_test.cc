// Every rejection the merger makes, each from an image crafted to trigger it.
#include <gtest/gtest.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <algorithm>

#include "merge/merge.h"
#include "tests/unit/merge_fixture.h"

namespace nsbuild::merge {
namespace {

using testing::TempDir;
using testing::Write;
namespace fs = std::filesystem;

// The rejections for the image at `dir`, as "PATH: reason" lines.
std::vector<std::string> Rejections(const std::string& dir, const MergePolicy& p = {}) {
  auto rep = CheckImages({{"", dir}}, p);
  EXPECT_TRUE(rep.ok()) << rep.error().Message();
  std::vector<std::string> out;
  if (rep.ok()) {
    for (const auto& f : rep->rejections) out.push_back(f.path + ": " + f.reason);
  }
  return out;
}

// Exactly one rejection, for `path`, whose reason contains `why`.
void ExpectOne(const std::string& dir, const std::string& path, const std::string& why,
               const MergePolicy& p = {}) {
  auto r = Rejections(dir, p);
  ASSERT_EQ(r.size(), 1u) << ::testing::PrintToString(r);
  EXPECT_EQ(r[0].rfind(path + ": ", 0), 0u) << r[0];
  EXPECT_NE(r[0].find(why), std::string::npos) << r[0];
}

class Checks : public ::testing::Test {
 protected:
  void SetUp() override { Write(img_ / "usr/share/ok/file", "fine"); }
  std::string Img() const { return img_.path(); }
  TempDir img_;
};

TEST_F(Checks, CleanImagePasses) { EXPECT_TRUE(Rejections(Img()).empty()); }

TEST_F(Checks, DeviceNode) {
  if (!testing::IsRoot()) GTEST_SKIP() << "mknod of a device needs root";
  ASSERT_EQ(::mknod((img_ / "usr/share/ok/null").c_str(), S_IFCHR | 0666, makedev(1, 3)), 0);
  ExpectOne(Img(), "/usr/share/ok/null", "device node");
}

TEST_F(Checks, Fifo) {
  ASSERT_EQ(::mkfifo((img_ / "usr/share/ok/pipe").c_str(), 0644), 0);
  ExpectOne(Img(), "/usr/share/ok/pipe", "fifo");
}

TEST_F(Checks, SetuidAndSetgid) {
  Write(img_ / "usr/bin/su", "x", 04755);
  ExpectOne(Img(), "/usr/bin/su", "setuid");
  ::chmod((img_ / "usr/bin/su").c_str(), 02755);
  ExpectOne(Img(), "/usr/bin/su", "setgid");
}

TEST_F(Checks, WorldWritableFileAndDirectory) {
  Write(img_ / "usr/share/ok/ww", "x", 0666);
  ::chmod((img_ / "usr/share/ok/ww").c_str(), 0666);
  ExpectOne(Img(), "/usr/share/ok/ww", "world-writable");
  ::chmod((img_ / "usr/share/ok/ww").c_str(), 0644);
  ::chmod((img_ / "usr/share/ok").c_str(), 0775);
  ExpectOne(Img(), "/usr/share/ok", "without the sticky bit");
  // Sticky or not (issue 13): others could still add a file that gets loaded.
  ::chmod((img_ / "usr/share/ok").c_str(), 01777);
  ExpectOne(Img(), "/usr/share/ok", "sticky, but others can still add files");
  // Unless the policy lists it, with a reason.
  MergePolicy p;
  p.writable_dirs = {{"/usr/share/ok", "a spool every user drops jobs into"}};
  EXPECT_TRUE(Rejections(Img(), p).empty());
}

TEST_F(Checks, SymlinksAtOrAbovePrefixRoots) {
  fs::create_symlink("/tmp/elsewhere", img_ / "etc");
  fs::create_directories(img_ / "var");
  fs::create_symlink("/var/tmp/x", img_ / "var/lib");
  fs::create_symlink("/tmp/lib", img_ / "usr/lib");
  fs::create_directories(img_ / "opt/foo");
  fs::create_symlink("foo", img_ / "opt/foo-current");  // below a root: fine
  auto r = Rejections(Img());
  std::sort(r.begin(), r.end());
  ASSERT_EQ(r.size(), 3u) << ::testing::PrintToString(r);
  EXPECT_EQ(
      r[0],
      "/etc: is a symlink where the policy expects the directory /etc (at or above a prefix root)");
  EXPECT_EQ(r[1].rfind("/usr/lib: is a symlink where the policy expects the directory /usr/lib", 0),
            0u)
      << r[1];
  EXPECT_EQ(r[2].rfind("/var/lib: is a symlink where the policy expects the directory /var/lib", 0),
            0u)
      << r[2];
  // A root the policy names itself.
  fs::remove(img_ / "etc");
  fs::remove(img_ / "usr/lib");
  fs::remove(img_ / "var/lib");
  fs::create_directories(img_ / "srv");
  fs::create_symlink("/tmp", img_ / "srv/www");
  MergePolicy p;
  p.allowed_prefixes.push_back("/srv/www");
  ExpectOne(Img(), "/srv/www", "expects the directory /srv/www", p);
}

TEST_F(Checks, ReservedForNsbuild) {
  Write(img_ / "etc/nsbuild-exec.conf", "py\n");
  ExpectOne(Img(), "/etc/nsbuild-exec.conf", "the admin's nsbuild-exec configuration");
}

TEST_F(Checks, FileCapabilityXattr) {
  if (!testing::IsRoot()) GTEST_SKIP() << "setting security.capability needs CAP_SETFCAP";
  // A v2 capability set granting cap_net_raw.
  const unsigned char cap[20] = {0, 0, 0, 2, 0, 0x20, 0, 0, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  ASSERT_EQ(
      ::setxattr((img_ / "usr/share/ok/file").c_str(), "security.capability", cap, sizeof cap, 0),
      0)
      << std::strerror(errno);
  ExpectOne(Img(), "/usr/share/ok/file", "file capabilities");
  MergePolicy allow;
  allow.allowed_xattrs = {"security.capability"};
  EXPECT_TRUE(Rejections(Img(), allow).empty());
}

TEST_F(Checks, HardlinkToAFileOutsideTheImage) {
  TempDir host;
  Write(host / "shadow", "secret");
  ASSERT_EQ(::link((host / "shadow").c_str(), (img_ / "usr/share/ok/stolen").c_str()), 0);
  ExpectOne(Img(), "/usr/share/ok/stolen", "linked to a file outside");
  // Links inside the image are fine.
  ::unlink((img_ / "usr/share/ok/stolen").c_str());
  ASSERT_EQ(::link((img_ / "usr/share/ok/file").c_str(), (img_ / "usr/share/ok/again").c_str()), 0);
  EXPECT_TRUE(Rejections(Img()).empty());
}

TEST_F(Checks, PrefixesAndUsrLocal) {
  Write(img_ / "usr/local/bin/x", "x", 0755);
  ExpectOne(Img(), "/usr/local", "/usr/local is not allowed");
  MergePolicy local;
  local.allowed_prefixes.push_back("/usr/local");
  EXPECT_TRUE(Rejections(Img(), local).empty());
  std::filesystem::remove_all(img_ / "usr/local");
  Write(img_ / "home/user/.bashrc", "x");
  ExpectOne(Img(), "/home", "outside the policy's allowed prefixes");
}

TEST_F(Checks, SymlinkClimbingOutOfTheImage) {
  ASSERT_EQ(::symlink("../../../../etc", (img_ / "usr/share/ok/up").c_str()), 0);
  ExpectOne(Img(), "/usr/share/ok/up", "climbs out of the image");
  ::unlink((img_ / "usr/share/ok/up").c_str());
  ASSERT_EQ(::symlink("../../lib/x.so", (img_ / "usr/share/ok/fine").c_str()), 0);
  EXPECT_TRUE(Rejections(Img()).empty());
}

TEST_F(Checks, BadNames) {
  Write(img_ / "usr/share/ok/bad\xff\xfename", "x");
  ExpectOne(Img(), "/usr/share/ok/bad\xff\xfename", "not valid UTF-8");
  std::filesystem::remove(img_ / "usr/share/ok/bad\xff\xfename");
  Write(img_ / "usr/share/ok/tab\tname", "x");
  ExpectOne(Img(), "/usr/share/ok/tab\tname", "control character");
  std::filesystem::remove(img_ / "usr/share/ok/tab\tname");
  Write(img_ / "usr/share/ok/.nsb-tmp.3", "x");
  ExpectOne(Img(), "/usr/share/ok/.nsb-tmp.3", "reserved");
  std::filesystem::remove(img_ / "usr/share/ok/.nsb-tmp.3");
  MergePolicy short_names;
  short_names.max_name_length = 8;
  Write(img_ / "usr/share/ok/a-long-name", "x");
  ExpectOne(Img(), "/usr/share/ok/a-long-name", "longer than 8 bytes", short_names);
}

TEST_F(Checks, VeryDeepTree) {
  std::string p = img_ / "usr/share";
  for (int i = 0; i < 80; ++i) p += "/d";
  std::filesystem::create_directories(p);
  auto r = Rejections(Img());
  ASSERT_EQ(r.size(), 1u) << ::testing::PrintToString(r);
  EXPECT_NE(r[0].find("deeper than 64 levels"), std::string::npos) << r[0];
}

TEST_F(Checks, DoubledPrefixAndReservedPaths) {
  Write(img_ / "var/tmp/nsbuild/foo/image/usr/bin/x", "x");
  ExpectOne(Img(), "/var/tmp", "$D$D");
  std::filesystem::remove_all(img_ / "var/tmp");
  Write(img_ / "var/lib/nsbuild/evil.json", "{}");
  ExpectOne(Img(), "/var/lib/nsbuild", "reserved for the merger");
}

TEST_F(Checks, FatalNoticeBlocks) {
  std::filesystem::create_directories(img_ / "usr/share/empty");
  EXPECT_TRUE(Rejections(Img()).empty());
  MergePolicy strict;
  strict.fatal_notices = {kNoticeEmptyDir};
  ExpectOne(Img(), "/usr/share/empty", "empty directory", strict);
}

}  // namespace
}  // namespace nsbuild::merge
