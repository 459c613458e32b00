#include "merge/seal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <functional>

#include "base/dir_fd.h"
#include "merge/fd_walk.h"

namespace nsbuild::merge {
namespace {

using base::UniqueFd;

bool Allowed(const MergePolicy& p, const std::string& name) {
  return std::find(p.allowed_xattrs.begin(), p.allowed_xattrs.end(), name) !=
         p.allowed_xattrs.end();
}

bool Listed(const ImageEntry& e, const std::string& name) {
  return std::find(e.xattrs.begin(), e.xattrs.end(), name) != e.xattrs.end();
}

// `list` and `remove` are the f- or l- variants. A list longer than the
// buffer is an error: what it holds cannot be checked. With `found`, the
// listing is also what the checks judge (a file's only listing).
base::Status Strip(const ImageEntry& e, const MergePolicy& p,
                   const std::function<ssize_t(char*, size_t)>& list,
                   const std::function<int(const char*)>& remove,
                   std::vector<std::string>* found = nullptr, bool* stripped = nullptr) {
  char buf[4096];
  ssize_t n = list(buf, sizeof buf);
  if (n < 0 && (errno == ENOTSUP || errno == EOPNOTSUPP)) return {};
  if (n < 0) return base::ErrnoError("seal: list xattrs of /" + e.path);
  for (ssize_t i = 0; i < n;) {
    std::string name(buf + i);
    i += static_cast<ssize_t>(name.size()) + 1;
    if (found) found->push_back(name);
    if (Allowed(p, name)) continue;
    if (remove(name.c_str()) == 0) {
      if (stripped) *stripped = true;
      continue;
    }
    if (errno == ENODATA) continue;
    if ((errno == EPERM || errno == EACCES) && (found || Listed(e, name))) continue;  // rejected
    return base::ErrnoError("seal: remove xattr " + name + " of /" + e.path);
  }
  return {};
}

// Directories and symlinks have no fd here: through the directory we hold,
// with the l- variants, so the entry itself is never followed.
base::Status StripAt(int dirfd, const std::string& name, const ImageEntry& e,
                     const MergePolicy& p) {
  std::string at = base::ProcFdPath(dirfd) + "/" + name;
  return Strip(
      e, p, [&](char* b, size_t n) { return ::llistxattr(at.c_str(), b, n); },
      [&](const char* x) { return ::lremovexattr(at.c_str(), x); });
}

base::Status SealOne(int dirfd, const std::string& name, ImageEntry& e, const MergePolicy& p,
                     const SealOptions& o, bool chown) {
  struct stat st;
  if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return base::ErrnoError("seal: lstat /" + e.path);
  }
  if (st.st_ino != e.ino || (st.st_mode & S_IFMT) != (e.mode & S_IFMT)) {
    return base::PlainError("seal: /" + e.path + " was replaced after the scan");
  }
  if (chown && ::fchownat(dirfd, name.c_str(), p.owner_uid, p.owner_gid, AT_SYMLINK_NOFOLLOW)) {
    return base::ErrnoError("seal: chown /" + e.path);
  }
  NSB_TRY(StripAt(dirfd, name, e, p));
  if (o.source_date_epoch && e.mtime > *o.source_date_epoch) {
    struct timespec ts[2] = {{*o.source_date_epoch, 0}, {*o.source_date_epoch, 0}};
    if (::utimensat(dirfd, name.c_str(), ts, AT_SYMLINK_NOFOLLOW) != 0) {
      return base::ErrnoError("seal: clamp mtime of /" + e.path);
    }
    e.mtime = *o.source_date_epoch;
  }
  return {};
}

}  // namespace

base::Status StripXattrs(int fd, ImageEntry& e, const MergePolicy& p, bool* stripped) {
  e.xattrs.clear();
  return Strip(
      e, p, [&](char* b, size_t n) { return ::flistxattr(fd, b, n); },
      [&](const char* x) { return ::fremovexattr(fd, x); }, &e.xattrs, stripped);
}

base::Status SealFile(int fd, ImageEntry& e, const MergePolicy& p, const SealOptions& o,
                      const struct stat& st, bool* changed) {
  static const bool root = ::geteuid() == 0;  // once: it is a syscall, and this runs per file
  if (root && (st.st_uid != p.owner_uid || st.st_gid != p.owner_gid)) {
    if (::fchown(fd, p.owner_uid, p.owner_gid) != 0)
      return base::ErrnoError("seal: chown /" + e.path);
    *changed = true;
  }
  if (o.source_date_epoch && st.st_mtim.tv_sec > *o.source_date_epoch) {
    struct timespec ts[2] = {{*o.source_date_epoch, 0}, {*o.source_date_epoch, 0}};
    if (::futimens(fd, ts) != 0) return base::ErrnoError("seal: clamp mtime of /" + e.path);
    *changed = true;
  }
  if (o.source_date_epoch && e.mtime > *o.source_date_epoch) e.mtime = *o.source_date_epoch;
  return {};
}

base::Status SealImage(ScannedImage& img, const MergePolicy& policy, const SealOptions& opts) {
  bool root = ::geteuid() == 0;
  if (root && ::fchown(img.root.get(), policy.owner_uid, policy.owner_gid) != 0) {
    return base::ErrnoError("seal: chown image root " + img.path);
  }
  // An ACL on the root itself would let the build add or swap top-level
  // names during the merge.
  ImageEntry root_entry;
  root_entry.path = "";
  NSB_TRY(Strip(
      root_entry, policy, [&](char* b, size_t n) { return ::flistxattr(img.root.get(), b, n); },
      [&](const char* x) { return ::fremovexattr(img.root.get(), x); }));
  UniqueFd dirfd;
  std::string dir = "\x01";  // matches no real directory
  for (auto& e : img.entries) {
    if (e.type != EntryType::kDir && e.type != EntryType::kSymlink) continue;
    auto [parent, name] = SplitParent(e.path);
    if (parent != dir) {
      NSB_ASSIGN_OR_RETURN(dirfd, OpenDirBeneath(img.root, parent));
      dir = parent;
    }
    NSB_TRY(SealOne(dirfd.get(), name, e, policy, opts, root));
  }
  return {};
}

}  // namespace nsbuild::merge
