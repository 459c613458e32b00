// Reading an image (one implementation's install root) into a list of
// entries without trusting anything in it: directories are opened with
// O_NOFOLLOW under fds we hold, entries are lstat'ed, symlinks are recorded
// and never followed. The scan changes nothing; Seal (seal.h) does that later.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"

namespace nsbuild::merge {

enum class EntryType { kFile, kDir, kSymlink, kOther };
const char* EntryTypeName(EntryType t);
// Permission bits (07777) as four octal digits, e.g. "0644".
std::string OctalMode(mode_t m);

// A regular file as it was once sealed (seal.h), right before it was
// hashed. The merger links a file only through an fd whose fstat still says
// exactly this: the same inode, owner and mode, size, and ctime (which any
// write, chmod, chown or xattr/ACL change moves).
struct Pin {
  dev_t dev = 0;
  ino_t ino = 0;
  uid_t uid = 0;
  gid_t gid = 0;
  mode_t mode = 0;
  int64_t size = 0;
  int64_t ctime_ns = 0;
};
Pin PinOf(const struct stat& st);
// "" when st matches the pin, else what differs ("ctime", "owner", ...).
std::string PinMismatch(const Pin& pin, const struct stat& st);

// The xattr names of an open file (flistxattr), as the scan lists those of
// other entries; a list too long to read is one name no policy allows.
std::vector<std::string> ListXattrs(int fd);

struct ImageEntry {
  std::string path;  // relative to the image root, no leading '/'
  EntryType type = EntryType::kOther;
  mode_t mode = 0;  // the full st_mode as found, before sealing
  uid_t uid = 0;
  gid_t gid = 0;
  nlink_t nlink = 0;
  dev_t dev = 0;
  ino_t ino = 0;
  int64_t size = 0;
  int64_t mtime = 0;
  int depth = 0;                    // 1 for entries directly under the root
  std::string target;               // symlinks only
  std::vector<std::string> xattrs;  // every xattr name, ACLs included (files: content pass)
  bool empty_dir = false;
  // Filled by the content pass (content.h) for regular files.
  std::string sha256;
  bool is_elf = false;
  std::string head;  // first bytes of executable files, for shebangs
  Pin pin;           // regular files: set by the content pass
};

// A problem found while scanning that stops the walk below a point (too
// deep, unreadable): reported with the checks' rejections.
struct ScanProblem {
  std::string path;
  std::string reason;
};

// An image as the merger sees it: opened under an fd it holds and walked,
// every entry listed. Not builder::BuiltImage, which only says where a
// build left an image and how big it is.
struct ScannedImage {
  std::string impl;  // implementation name, "" for a single-image merge
  std::string path;  // as given by the caller
  base::UniqueFd root;
  dev_t root_dev = 0;
  std::vector<ImageEntry> entries;  // pre-order: a directory before its children
  std::vector<ScanProblem> problems;
};

struct ScanLimits {
  int max_depth = 64;
};

// Opens and walks the image at `path`. Fails only when the root cannot be
// opened; everything wrong inside becomes an entry or a ScanProblem for the
// checks to judge.
base::Result<ScannedImage> ScanImage(const std::string& path, const std::string& impl,
                                     const ScanLimits& limits);

}  // namespace nsbuild::merge
