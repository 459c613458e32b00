// Every check of merge/checks.cc, entry by entry, on scans built in memory
// (CheckImage is pure: no files, no privileges, so every xattr family and
// every file type is testable as any user). And the list cannot drift: every
// rejection reason written in merge/checks.cc must be produced by some case
// here, so a check added without a case fails a test.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <functional>
#include <sstream>

#include "merge/checks.h"
#include "tests/support/files.h"

namespace nsbuild::merge {
namespace {

using nsbuild::testing::Read;

struct CheckCase {
  std::string label;
  ImageEntry entry;
  std::string reject;  // substring of the one rejection; "" = none expected
  std::function<void(MergePolicy&)> policy = nullptr;
};

ImageEntry File(const std::string& path, mode_t perm = 0644) {
  static ino_t next_ino = 1000;
  ImageEntry e;
  e.path = path;
  e.type = EntryType::kFile;
  e.mode = S_IFREG | perm;
  e.nlink = 1;
  e.dev = 1;
  e.ino = ++next_ino;
  e.size = 10;
  e.depth = 2;
  return e;
}

ImageEntry Dir(const std::string& path, mode_t perm = 0755) {
  ImageEntry e = File(path);
  e.type = EntryType::kDir;
  e.mode = S_IFDIR | perm;
  return e;
}

ImageEntry Other(const std::string& path, mode_t fmt) {
  ImageEntry e = File(path);
  e.type = EntryType::kOther;
  e.mode = fmt | 0644;
  return e;
}

ImageEntry Link(const std::string& path, const std::string& target) {
  ImageEntry e = File(path, 0777);
  e.type = EntryType::kSymlink;
  e.mode = S_IFLNK | 0777;
  e.target = target;
  return e;
}

ImageEntry WithXattr(ImageEntry e, const std::string& name) {
  e.xattrs.push_back(name);
  return e;
}

std::vector<CheckCase> Cases() {
  std::vector<CheckCase> c = {
      {"clean file", File("usr/share/x/f"), ""},
      {"char device", Other("usr/share/x/dev", S_IFCHR), "is a device node"},
      {"block device", Other("usr/share/x/blk", S_IFBLK), "is a device node"},
      {"fifo", Other("usr/share/x/fifo", S_IFIFO), "is a fifo"},
      {"socket", Other("usr/share/x/sock", S_IFSOCK), "is a socket"},
      {"unknown type", Other("usr/share/x/what", 0), "is an unknown file type"},
      {"setuid file", File("usr/bin/su", 04755), "has the setuid bit"},
      {"setuid dir", Dir("usr/share/sd", 04755), "has the setuid bit"},
      {"setgid file", File("usr/bin/sg", 02755), "has the setgid bit"},
      {"setgid dir is fine", Dir("usr/share/gd", 02755), ""},
      {"world-writable file", File("usr/share/x/ww", 0666), "is world-writable"},
      {"world-writable dir", Dir("usr/share/wd", 0777), "group- or world-writable directory"},
      {"group-writable dir", Dir("usr/share/gw", 0775), "group- or world-writable directory"},
      // Sticky or not, others could add a module there (issue #13).
      {"sticky world-writable dir", Dir("usr/share/st", 01777), "sticky, but others can still add"},
      {"writable dir the policy lists", Dir("usr/share/drop", 01777), "",
       [](MergePolicy& p) {
         p.writable_dirs.push_back({"/usr/share/drop", "a drop box"});
       }},
      {"hardlink to outside", File("usr/share/x/hl"), "linked to a file outside"},
      {"file too large", File("usr/share/x/big"), "more than the policy's max_file_size"},
      // xattr families: security.*, trusted.*, system.* (ACLs) refused,
      // user.* allowed, and a policy can allow one name.
      {"file capability", WithXattr(File("usr/bin/cap"), "security.capability"),
       "file capabilities"},
      {"selinux label", WithXattr(File("usr/bin/se"), "security.selinux"), "a privileged xattr"},
      {"trusted xattr", WithXattr(File("usr/bin/tr"), "trusted.overlay.opaque"),
       "a privileged xattr"},
      {"access ACL", WithXattr(File("usr/bin/acl"), "system.posix_acl_access"), "an ACL"},
      {"default ACL", WithXattr(Dir("usr/share/dacl"), "system.posix_acl_default"), "an ACL"},
      {"other system xattr", WithXattr(File("usr/bin/sys"), "system.nfs4_acl"),
       "a privileged xattr"},
      {"user xattr", WithXattr(File("usr/bin/user"), "user.comment"), ""},
      {"allowed capability", WithXattr(File("usr/bin/ping"), "security.capability"), "",
       [](MergePolicy& p) { p.allowed_xattrs = {"security.capability"}; }},
      {"allowed names only", WithXattr(File("usr/bin/ping2"), "security.selinux"),
       "a privileged xattr", [](MergePolicy& p) { p.allowed_xattrs = {"security.capability"}; }},
      {"invalid utf-8", File("usr/share/x/\xff\xfe"), "name is not valid UTF-8"},
      {"overlong utf-8", File("usr/share/x/\xc0\xaf"), "name is not valid UTF-8"},
      {"control character", File("usr/share/x/a\nb"), "name contains a control character"},
      {"DEL character", File("usr/share/x/a\x7f"), "name contains a control character"},
      {"path too long",
       File("usr/share/" + std::string(200, 'a') + "/" + std::string(200, 'b') + "/" +
            std::string(200, 'c') + "/" + std::string(200, 'd') + "/" + std::string(200, 'e') +
            "/" + std::string(200, 'f')),
       "path is longer than"},
      {"name too long", File("usr/share/" + std::string(256, 'n')), "name is longer than"},
      {"dotdot name", File("usr/share/.."), "name is '..' or '.'"},
      {"reserved name", File("usr/share/.nsb-tmp"), "names starting with .nsb- are reserved"},
      {"empty symlink", Link("usr/share/x/l0", ""), "symlink has an empty target"},
      {"climbing symlink", Link("usr/share/l1", "../../../etc/shadow"),
       "\" climbs out of the image with '..'"},
      {"inside relative symlink", Link("usr/share/l2", "../bin/x"), ""},
      {"control in target", Link("usr/share/l3", "a\x01"), "symlink target has control characters"},
      {"bad utf-8 target", Link("usr/share/l4", "\xff"), "symlink target has control characters"},
      {"doubled build dir", File("var/tmp/nsbuild/x/usr/bin/f"),
       "repeats the build or image directory"},
      {"leads into build dir", Dir("var/tmp"), "leads into /var/tmp/nsbuild"},
      {"merger database", File("var/lib/nsbuild/pkg.json"), "reserved for the merger's database"},
      {"exec wrappers", File("usr/lib/nsbuild-exec/x"), "reserved for the merger's database"},
      {"exec dispatcher config", File("etc/nsbuild-exec.conf"),
       "the admin's nsbuild-exec configuration"},
      // A symlinked tree root redirects whatever is installed below it later.
      {"prefix root as a symlink", Link("usr/lib", "/tmp/x"),
       "is a symlink where the policy expects"},
      {"above a prefix root", Link("usr", "/var/tmp/u"), "is a symlink where the policy expects"},
      {"symlink below the roots", Link("usr/lib/x/current", "1.0"), ""},
      {"usr/local", File("usr/local/bin/x"), "/usr/local is not allowed by the policy"},
      {"usr/local allowed", File("usr/local/bin/y"), "",
       [](MergePolicy& p) { p.allowed_prefixes.push_back("/usr/local"); }},
      {"outside prefixes", File("srv/www/index"), "is outside the policy's allowed prefixes"},
      {"ancestor of a prefix", Dir("var"), ""},
  };
  for (auto& k : c) {
    if (k.label == "hardlink to outside") k.entry.nlink = 2;
    if (k.label == "file too large") k.entry.size = (int64_t{8} << 30) + 1;
  }
  return c;
}

std::vector<Finding> RejectionsOf(const CheckCase& k, std::vector<Finding>* notices = nullptr) {
  ScannedImage img;
  img.path = "/var/tmp/nsbuild/image";
  img.entries.push_back(k.entry);
  MergePolicy p;
  if (k.policy) k.policy(p);
  std::vector<Finding> rej, n;
  CheckImage(img, p, &rej, notices ? notices : &n);
  return rej;
}

TEST(MergeCheckTable, EveryCaseGetsExactlyItsRejection) {
  for (const CheckCase& k : Cases()) {
    auto rej = RejectionsOf(k);
    if (k.reject.empty()) {
      EXPECT_TRUE(rej.empty()) << k.label << ": " << (rej.empty() ? "" : rej[0].reason);
      continue;
    }
    if (rej.size() != 1) {
      ADD_FAILURE() << k.label << ": " << rej.size() << " rejections, expected one with \""
                    << k.reject << "\"" << (rej.empty() ? "" : ": " + rej[0].reason);
      continue;
    }
    EXPECT_EQ(rej[0].path, "/" + k.entry.path) << k.label;
    EXPECT_NE(rej[0].reason.find(k.reject), std::string::npos) << k.label << ": " << rej[0].reason;
  }
}

TEST(MergeCheckTable, EmptyDirectoryIsANoticeNotARejection) {
  CheckCase k{"empty dir", Dir("usr/share/empty"), ""};
  k.entry.empty_dir = true;
  std::vector<Finding> notices;
  EXPECT_TRUE(RejectionsOf(k, &notices).empty());
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_EQ(notices[0].kind, kNoticeEmptyDir);
}

// The string literals of every Reject(e, ...) call in merge/checks.cc; the
// longest of each call is the one a case must produce.
std::vector<std::string> ReasonsInSource() {
  std::string src = Read(std::string(NSBUILD_SOURCE_DIR) + "/merge/checks.cc");
  std::vector<std::string> reasons;
  for (size_t at = src.find("Reject(e,"); at != std::string::npos;
       at = src.find("Reject(e,", at + 1)) {
    int depth = 0;
    std::string longest, lit;
    bool in_str = false;
    for (size_t i = at + 6; i < src.size(); ++i) {
      char ch = src[i];
      if (in_str) {
        if (ch == '\\' && i + 1 < src.size()) {
          lit += src[++i];
        } else if (ch == '"') {
          in_str = false;
          if (lit.size() > longest.size()) longest = lit;
        } else {
          lit += ch;
        }
        continue;
      }
      if (ch == '"') {
        in_str = true;
        lit.clear();
      } else if (ch == '(') {
        ++depth;
      } else if (ch == ')' && --depth == 0) {
        break;
      }
    }
    reasons.push_back(longest);
  }
  return reasons;
}

TEST(MergeCheckTable, EveryRejectionInTheSourceHasACase) {
  auto reasons = ReasonsInSource();
  ASSERT_GE(reasons.size(), 20u) << "could not read merge/checks.cc under " << NSBUILD_SOURCE_DIR;
  std::vector<std::string> produced;
  for (const CheckCase& k : Cases()) {
    for (const auto& f : RejectionsOf(k)) produced.push_back(f.reason);
  }
  for (const auto& r : reasons) {
    bool found = false;
    for (const auto& p : produced) found = found || p.find(r) != std::string::npos;
    EXPECT_TRUE(found) << "merge/checks.cc rejects with \"" << r
                       << "\" but no case in merge_checks_table_test.cc produces it";
  }
}

}  // namespace
}  // namespace nsbuild::merge
