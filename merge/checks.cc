#include "merge/checks.h"

#include <algorithm>
#include <map>
#include <utility>

namespace nsbuild::merge {
namespace {

// Strict UTF-8 (no overlongs, no surrogates): names end up in JSON and on
// terminals, and an invalid sequence is a classic way to hide one.
bool ValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1f) : n == 3 ? (c & 0x0f) : (c & 0x07);
    for (size_t k = 1; k < n; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc >> 6) != 2) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    static const uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += n;
  }
  return true;
}

bool HasControl(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return true;
  }
  return false;
}

// A relative symlink target that climbs above the root of the tree it
// will be installed in points out of the image.
bool ClimbsOut(const std::string& link_path, const std::string& target) {
  if (target.empty() || target[0] == '/') return false;
  int depth = 0;
  for (char c : link_path) depth += c == '/';
  size_t pos = 0;
  while (pos <= target.size()) {
    size_t slash = target.find('/', pos);
    if (slash == std::string::npos) slash = target.size();
    std::string_view c(target.data() + pos, slash - pos);
    if (c == "..") {
      if (--depth < 0) return true;
    } else if (!c.empty() && c != ".") {
      ++depth;
    }
    pos = slash + 1;
  }
  return false;
}

bool IsAncestorOfPrefix(const std::string& abs, const std::vector<std::string>& prefixes) {
  for (const auto& p : prefixes) {
    if (p.rfind(abs + "/", 0) == 0) return true;
  }
  return false;
}

class Checker {
 public:
  Checker(const ScannedImage& img, const MergePolicy& p, std::vector<Finding>* rej,
          std::vector<Finding>* notices)
      : img_(img), p_(p), rej_(rej), notices_(notices) {}

  void Run() {
    for (const auto& pr : img_.problems) rej_->push_back({img_.impl, pr.path, "reject", pr.reason});
    for (const auto& e : img_.entries) {
      if (e.type == EntryType::kFile) ++links_inside_[{e.dev, e.ino}];
    }
    for (const auto& e : img_.entries) Entry(e);
  }

 private:
  void Reject(const ImageEntry& e, std::string why) {
    rej_->push_back({img_.impl, "/" + e.path, "reject", std::move(why)});
  }

  void Entry(const ImageEntry& e) {
    Type(e);
    Mode(e);
    Xattrs(e);
    Names(e);
    Placement(e);
    TreeRoots(e);
    if (e.type == EntryType::kDir && e.empty_dir) {
      notices_->push_back({img_.impl, "/" + e.path, kNoticeEmptyDir, "empty directory"});
    }
  }

  void Type(const ImageEntry& e) {
    if (e.type != EntryType::kOther) return;
    const char* what = S_ISCHR(e.mode) || S_ISBLK(e.mode) ? "a device node"
                       : S_ISFIFO(e.mode)                 ? "a fifo"
                       : S_ISSOCK(e.mode)                 ? "a socket"
                                                          : "an unknown file type";
    Reject(e, std::string("is ") + what + "; images may hold only files, directories, symlinks");
  }

  void Mode(const ImageEntry& e) {
    if (e.type == EntryType::kSymlink || e.type == EntryType::kOther) return;
    if (e.mode & S_ISUID) Reject(e, "has the setuid bit");
    if (e.type == EntryType::kFile && (e.mode & S_ISGID)) Reject(e, "has the setgid bit");
    if (e.type == EntryType::kFile && (e.mode & S_IWOTH)) Reject(e, "is world-writable");
    if (e.type == EntryType::kFile && e.size > p_.max_file_size) {
      Reject(e, "is " + std::to_string(e.size) + " bytes, more than the policy's max_file_size (" +
                    std::to_string(p_.max_file_size) + ")");
    }
    if (e.type == EntryType::kDir && (e.mode & (S_IWGRP | S_IWOTH)) && !WritableAllowed(e)) {
      // The sticky bit only stops others removing what is not theirs; they
      // can still add a module, a plugin or a config file that gets loaded.
      Reject(e, e.mode & S_ISVTX
                    ? "is a group- or world-writable directory (sticky, but others can still add "
                      "files); list it in the policy's writable_dirs with a reason if intended"
                    : "is a group- or world-writable directory without the sticky bit");
    }
    if (e.type == EntryType::kFile) {
      size_t inside = links_inside_[{e.dev, e.ino}];
      if (e.nlink > inside) {
        Reject(e, "has " + std::to_string(e.nlink) + " hardlinks but only " +
                      std::to_string(inside) + " in the image: it is linked to a file outside");
      }
    }
  }

  bool WritableAllowed(const ImageEntry& e) const {
    return std::any_of(p_.writable_dirs.begin(), p_.writable_dirs.end(),
                       [&](const WritableDir& w) { return w.path == "/" + e.path; });
  }

  // A symlink standing where the policy expects a real tree (a prefix, a
  // protected path, a standard root under them, or a directory above one)
  // would redirect everything later installed or loaded there.
  void TreeRoots(const ImageEntry& e) {
    if (e.type != EntryType::kSymlink) return;
    std::string abs = "/" + e.path;
    std::vector<std::string> roots = p_.allowed_prefixes;
    roots.insert(roots.end(), p_.protected_config.begin(), p_.protected_config.end());
    roots.insert(roots.end(), std::begin(kSystemTrees), std::end(kSystemTrees));
    for (const auto& r : roots) {
      if (abs == r || IsAncestorOfPrefix(abs, {r})) {
        return Reject(e, "is a symlink where the policy expects the directory " + r +
                             " (at or above a prefix root)");
      }
    }
  }

  void Xattrs(const ImageEntry& e) {
    for (const auto& x : e.xattrs) {
      bool privileged =
          x.rfind("security.", 0) == 0 || x.rfind("trusted.", 0) == 0 || x.rfind("system.", 0) == 0;
      if (!privileged || std::find(p_.allowed_xattrs.begin(), p_.allowed_xattrs.end(), x) !=
                             p_.allowed_xattrs.end()) {
        continue;
      }
      std::string what = x == "security.capability"            ? "file capabilities"
                         : x.rfind("system.posix_acl", 0) == 0 ? "an ACL"
                                                               : "a privileged xattr";
      Reject(e, "carries " + what + " (" + x + ") the policy does not allow");
    }
  }

  void Names(const ImageEntry& e) {
    if (!ValidUtf8(e.path)) Reject(e, "name is not valid UTF-8");
    if (HasControl(e.path)) Reject(e, "name contains a control character");
    if (static_cast<int64_t>(e.path.size()) + 1 > p_.max_path_length) {
      Reject(e, "path is longer than " + std::to_string(p_.max_path_length) + " bytes");
    }
    auto name = e.path.substr(e.path.rfind('/') + 1);
    if (static_cast<int64_t>(name.size()) > p_.max_name_length) {
      Reject(e, "name is longer than " + std::to_string(p_.max_name_length) + " bytes");
    }
    if (name == ".." || name == ".") Reject(e, "name is '..' or '.'");
    // The merger's own temporary names in the destination; recovery deletes them.
    if (name.rfind(".nsb-", 0) == 0) Reject(e, "names starting with .nsb- are reserved");
    if (e.type == EntryType::kSymlink) {
      if (e.target.empty()) Reject(e, "symlink has an empty target");
      if (ClimbsOut(e.path, e.target)) {
        Reject(e, "symlink target \"" + e.target + "\" climbs out of the image with '..'");
      }
      if (HasControl(e.target) || !ValidUtf8(e.target)) {
        Reject(e, "symlink target has control characters or invalid UTF-8");
      }
    }
  }

  // One rejection for a misplaced tree, at its top: what is below is
  // misplaced for the same reason.
  void Placement(const ImageEntry& e) {
    if (!misplaced_.empty() && e.path.rfind(misplaced_ + "/", 0) == 0) return;
    size_t before = rej_->size();
    PlacementOf(e);
    if (rej_->size() != before && e.type == EntryType::kDir) misplaced_ = e.path;
  }

  void PlacementOf(const ImageEntry& e) {
    std::string abs = "/" + e.path;
    std::string self = img_.path;
    while (!self.empty() && self.back() == '/') self.pop_back();
    std::vector<std::string> doubled = p_.build_dirs;
    if (!self.empty() && self[0] == '/') doubled.push_back(self);
    if (UnderPrefix(abs, doubled)) {
      return Reject(e, "path repeats the build or image directory ($D$D-style doubled prefix)");
    }
    if (e.type == EntryType::kDir && !IsAncestorOfPrefix(abs, p_.allowed_prefixes)) {
      for (const auto& d : doubled) {
        if (IsAncestorOfPrefix(abs, {d})) {
          return Reject(e, "is outside the allowed prefixes and leads into " + d +
                               " ($D$D-style doubled prefix)");
        }
      }
    }
    if (UnderPrefix(abs, {"/" + std::string(kDbDir), "/" + std::string(kExecDir)})) {
      return Reject(e, "path is reserved for the merger's database and exec wrappers");
    }
    if (UnderPrefix(abs, {"/" + std::string(kExecConf)})) {
      return Reject(e,
                    "path is reserved: the admin's nsbuild-exec configuration, which decides "
                    "the implementation for every wrapped program");
    }
    bool local_allowed = std::find(p_.allowed_prefixes.begin(), p_.allowed_prefixes.end(),
                                   "/usr/local") != p_.allowed_prefixes.end();
    if (!local_allowed && UnderPrefix(abs, {"/usr/local"})) {
      return Reject(e, "/usr/local is not allowed by the policy");
    }
    if (UnderPrefix(abs, p_.allowed_prefixes)) return;
    if (e.type == EntryType::kDir && IsAncestorOfPrefix(abs, p_.allowed_prefixes)) return;
    Reject(e, "is outside the policy's allowed prefixes");
  }

  const ScannedImage& img_;
  const MergePolicy& p_;
  std::vector<Finding>* rej_;
  std::vector<Finding>* notices_;
  std::map<std::pair<dev_t, ino_t>, size_t> links_inside_;
  std::string misplaced_;
};

}  // namespace

bool UnderPrefix(const std::string& abs, const std::vector<std::string>& prefixes) {
  for (const auto& p : prefixes) {
    if (p == "/" || abs == p || abs.rfind(p + "/", 0) == 0) return true;
  }
  return false;
}

std::string FormatFinding(const Finding& f, const std::string& image_path) {
  std::string where = f.impl.empty() ? image_path : f.impl + "=" + image_path;
  std::string kind = f.kind == "reject" ? "" : "[" + f.kind + "] ";
  return where + ":" + f.path + ": " + kind + f.reason;
}

void CheckImage(const ScannedImage& img, const MergePolicy& policy,
                std::vector<Finding>* rejections, std::vector<Finding>* notices) {
  Checker(img, policy, rejections, notices).Run();
}

}  // namespace nsbuild::merge
