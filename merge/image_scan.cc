#include "merge/image_scan.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "base/dir_fd.h"
#include "merge/fd_walk.h"

namespace nsbuild::merge {
namespace {

using base::BorrowedFd;
using base::UniqueFd;

EntryType TypeOf(mode_t m) {
  if (S_ISREG(m)) return EntryType::kFile;
  if (S_ISDIR(m)) return EntryType::kDir;
  if (S_ISLNK(m)) return EntryType::kSymlink;
  return EntryType::kOther;
}

// The names a *listxattr call returned in `buf` (`n` its result). A list
// longer than the buffer becomes one name no policy allows, so the checks
// reject what cannot be read.
std::vector<std::string> XattrNames(const char* buf, ssize_t n) {
  if (n < 0 && errno == ERANGE) return {"(xattr list longer than 4096 bytes)"};
  std::vector<std::string> out;
  for (ssize_t i = 0; i < n;) {
    std::string x(buf + i);
    i += static_cast<ssize_t>(x.size()) + 1;
    out.push_back(std::move(x));
  }
  return out;
}

// Lists names through /proc/self/fd/DIR/NAME with the l- variant: the magic
// link resolves only the directory we hold, and NAME itself is not followed.
// (flistxattr needs an open file, which a fifo or device would make risky.)
std::vector<std::string> ListXattrs(int dirfd, const std::string& name) {
  std::string p = base::ProcFdPath(dirfd) + "/" + name;
  char buf[4096];
  ssize_t n = ::llistxattr(p.c_str(), buf, sizeof buf);
  return XattrNames(buf, n);
}

std::vector<std::string> ReadNames(int dirfd, std::string* error) {
  std::vector<std::string> names;
  int dup = ::fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
  DIR* d = dup >= 0 ? ::fdopendir(dup) : nullptr;
  if (!d) {
    if (dup >= 0) ::close(dup);
    *error = std::string("cannot list directory: ") + std::strerror(errno);
    return names;
  }
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(std::move(n));
  }
  ::closedir(d);
  // Sorted so scans, reports and the database do not depend on disk order.
  std::sort(names.begin(), names.end());
  return names;
}

class Walker {
 public:
  Walker(ScannedImage* img, const ScanLimits& l) : img_(img), limits_(l) {}

  void Dir(int dirfd, const std::string& rel, int depth) {
    std::string err;
    auto names = ReadNames(dirfd, &err);
    if (!err.empty()) return Problem(rel, err);
    if (!rel.empty() && names.empty()) img_->entries[dir_index_].empty_dir = true;
    for (const auto& name : names) Child(dirfd, rel, name, depth + 1);
  }

 private:
  void Problem(const std::string& p, const std::string& why) {
    img_->problems.push_back({p.empty() ? "/" : "/" + p, why});
  }

  void Child(int dirfd, const std::string& rel, const std::string& name, int depth) {
    std::string path = JoinRel(rel, name);
    struct stat st;
    if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      return Problem(path, std::string("lstat failed: ") + std::strerror(errno));
    }
    ImageEntry e = EntryOf(st, path, depth);
    if (e.type == EntryType::kSymlink) e.target = ReadLink(dirfd, name, path);
    // A file's xattrs are listed from its fd in the content pass, which
    // opens it anyway; this path lookup through /proc costs more.
    if (e.type != EntryType::kFile) e.xattrs = ListXattrs(dirfd, name);
    img_->entries.push_back(std::move(e));
    if (!S_ISDIR(st.st_mode)) return;
    if (depth >= limits_.max_depth) {
      return Problem(path, "directory tree deeper than " + std::to_string(limits_.max_depth) +
                               " levels (the policy's max_depth); not descending");
    }
    UniqueFd sub(::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!sub) return Problem(path, std::string("cannot open directory: ") + std::strerror(errno));
    dir_index_ = img_->entries.size() - 1;
    Dir(sub.get(), path, depth);
  }

  ImageEntry EntryOf(const struct stat& st, const std::string& path, int depth) {
    ImageEntry e;
    e.path = path;
    e.type = TypeOf(st.st_mode);
    e.mode = st.st_mode;
    e.uid = st.st_uid;
    e.gid = st.st_gid;
    e.nlink = st.st_nlink;
    e.dev = st.st_dev;
    e.ino = st.st_ino;
    e.size = st.st_size;
    e.mtime = st.st_mtim.tv_sec;
    e.depth = depth;
    return e;
  }

  std::string ReadLink(int dirfd, const std::string& name, const std::string& path) {
    char buf[4096];
    ssize_t n = ::readlinkat(dirfd, name.c_str(), buf, sizeof buf);
    if (n < 0 || n == static_cast<ssize_t>(sizeof buf)) {
      Problem(path, "cannot read symlink target");
      return "";
    }
    return std::string(buf, static_cast<size_t>(n));
  }

  ScannedImage* img_;
  ScanLimits limits_;
  size_t dir_index_ = 0;
};

}  // namespace

std::vector<std::string> ListXattrs(int fd) {
  char buf[4096];
  ssize_t n = ::flistxattr(fd, buf, sizeof buf);
  return XattrNames(buf, n);
}

Pin PinOf(const struct stat& st) {
  return Pin{st.st_dev,
             st.st_ino,
             st.st_uid,
             st.st_gid,
             st.st_mode,
             st.st_size,
             int64_t{st.st_ctim.tv_sec} * 1000000000 + st.st_ctim.tv_nsec};
}

std::string PinMismatch(const Pin& pin, const struct stat& st) {
  Pin now = PinOf(st);
  if (now.dev != pin.dev || now.ino != pin.ino) return "another inode";
  if (now.uid != pin.uid || now.gid != pin.gid) return "owner";
  if (now.mode != pin.mode) return "mode";
  if (now.size != pin.size) return "size";
  if (now.ctime_ns != pin.ctime_ns) return "ctime (written, chmod/chown or xattrs/ACL changed)";
  return "";
}

std::string OctalMode(mode_t m) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(m & 07777));
  return buf;
}

const char* EntryTypeName(EntryType t) {
  switch (t) {
    case EntryType::kFile:
      return "file";
    case EntryType::kDir:
      return "dir";
    case EntryType::kSymlink:
      return "symlink";
    case EntryType::kOther:
      return "special";
  }
  return "?";
}

base::Result<ScannedImage> ScanImage(const std::string& path, const std::string& impl,
                                     const ScanLimits& limits) {
  ScannedImage img;
  img.impl = impl;
  img.path = path;
  NSB_ASSIGN_OR_RETURN(img.root, OpenRootDir(path));
  struct stat st;
  if (::fstat(img.root.get(), &st) != 0) return base::ErrnoError("stat image " + path);
  img.root_dev = st.st_dev;
  Walker w(&img, limits);
  w.Dir(img.root.get(), "", 0);
  return img;
}

}  // namespace nsbuild::merge
