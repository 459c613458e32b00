#include "merge/seal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>

#include "merge/fd_walk.h"

namespace nsbuild::merge {
namespace {

using base::UniqueFd;

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

base::Status SealImage(Image& img, const MergePolicy& policy, const SealOptions& opts) {
  bool root = ::geteuid() == 0;
  std::map<std::pair<dev_t, ino_t>, nlink_t> inside;
  for (const auto& e : img.entries) ++inside[{e.dev, e.ino}];
  if (root && ::fchown(img.root.get(), policy.owner_uid, policy.owner_gid) != 0) {
    return base::ErrnoError("seal: chown image root " + img.path);
  }
  UniqueFd dirfd;
  std::string dir = "\x01";  // matches no real directory
  for (auto& e : img.entries) {
    if (e.type == EntryType::kOther) continue;
    if (e.type == EntryType::kFile && e.nlink > inside[{e.dev, e.ino}]) continue;
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
