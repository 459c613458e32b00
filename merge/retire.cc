#include "merge/retire.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <thread>
#include <vector>

#include "base/fs.h"
#include "base/sliced.h"
#include "merge/checks.h"
#include "merge/fd_walk.h"

namespace nsbuild::merge {
namespace {

using base::UniqueFd;

// The marker comes back from a directory a user may control: printable
// ASCII only, bounded.
std::string Printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 1024)) {
    auto u = static_cast<unsigned char>(c);
    out += u >= 0x20 && u < 0x7f ? c : '?';
  }
  return out;
}

// Unlinks entries [lo, hi) of `order` (indexes into img.entries), keeping the
// last parent directory open for its siblings.
base::Status RemoveRange(const ScannedImage& img, const std::vector<size_t>& order, size_t lo,
                         size_t hi) {
  UniqueFd dir;
  std::string at = "\x01";  // matches no real directory
  for (size_t k = lo; k < hi; ++k) {
    const ImageEntry& e = img.entries[order[k]];
    auto [parent, name] = SplitParent(e.path);
    if (parent != at) {
      NSB_ASSIGN_OR_RETURN(dir, OpenDirBeneath(img.root, parent));
      at = parent;
    }
    int flags = e.type == EntryType::kDir ? AT_REMOVEDIR : 0;
    if (::unlinkat(dir.get(), name.c_str(), flags) != 0 && errno != ENOENT) {
      return base::ErrnoError("empty the merged image " + img.path + ": remove /" + e.path);
    }
  }
  return {};
}

// Removing a directory frees its blocks, and on a filesystem mounted with
// `discard` (the development VM's ext4, which has no journal to defer it)
// rmdir waits for the device to discard them: up to 3 ms a directory, at
// times most of retiring 10,000 files (perf: ext4_free_blocks ->
// blkdev_issue_discard under vfs_rmdir). It is a wait, not CPU, so more
// threads than CPUs overlap it. A directory goes only
// once its subdirectories are gone: one depth at a time, deepest first.
constexpr unsigned kDirThreads = 16;

base::Status RemoveDirs(const ScannedImage& img, std::vector<size_t> dirs) {
  std::stable_sort(dirs.begin(), dirs.end(),
                   [&](size_t a, size_t b) { return img.entries[a].depth > img.entries[b].depth; });
  for (size_t lo = 0; lo < dirs.size();) {
    size_t hi = lo;
    while (hi < dirs.size() && img.entries[dirs[hi]].depth == img.entries[dirs[lo]].depth) ++hi;
    std::vector<size_t> level(dirs.begin() + long(lo), dirs.begin() + long(hi));
    unsigned n = static_cast<unsigned>(std::min<size_t>(kDirThreads, level.size() / 4 + 1));
    NSB_TRY(base::Sliced(n, level.size(), [&](unsigned, size_t a, size_t b) {
      return RemoveRange(img, level, a, b);
    }));
    lo = hi;
  }
  return {};
}

// Every name but directories first, split between threads: an unlink costs
// about what the merge's link cost, and names in different directories do
// not contend. Then the directories.
base::Status RemoveAll(const ScannedImage& img) {
  std::vector<size_t> names, dirs;
  for (size_t i = img.entries.size(); i-- > 0;) {
    (img.entries[i].type == EntryType::kDir ? dirs : names).push_back(i);
  }
  unsigned n = std::max(1u, std::min(std::thread::hardware_concurrency(),
                                     static_cast<unsigned>(names.size() / 4096 + 1)));
  NSB_TRY(base::Sliced(n, names.size(), [&](unsigned, size_t lo, size_t hi) {
    return RemoveRange(img, names, lo, hi);
  }));
  return RemoveDirs(img, std::move(dirs));
}

}  // namespace

base::Status RetireImage(const ScannedImage& img, const std::string& dest,
                         const std::string& package) {
  bool root = ::geteuid() == 0;
  // Unprivileged, a read-only directory of the caller's own image would
  // keep its names: make each writable by its owner (it is going away).
  if (!root) {
    ::fchmod(img.root.get(), 0700);
    for (const auto& e : img.entries) {
      if (e.type != EntryType::kDir) continue;
      auto [parent, name] = SplitParent(e.path);
      NSB_ASSIGN_OR_RETURN(UniqueFd dir, OpenDirBeneath(img.root, parent));
      ::fchmodat(dir.get(), name.c_str(), 0700, 0);
    }
  }
  NSB_TRY(RemoveAll(img));
  UniqueFd marker(::openat(img.root.get(), kMergedMarker,
                           O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0444));
  if (!marker) return base::ErrnoError(std::string("write ") + kMergedMarker + " in " + img.path);
  NSB_TRY(base::WriteAll(marker, dest + "\n" + package + "\n"));
  // Root-only and read-only evidence of what happened, nothing to write to.
  if (root) ::fchmod(img.root.get(), 0555);
  return {};
}

std::optional<std::string> MergedInto(const std::string& image_path) {
  auto root = OpenRootDir(image_path);
  if (!root.ok()) return std::nullopt;
  UniqueFd fd(::openat(root->get(), kMergedMarker, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
  struct stat st;
  if (!fd || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  char buf[2048];
  ssize_t n = ::read(fd.get(), buf, sizeof buf);
  std::string text(buf, n > 0 ? static_cast<size_t>(n) : 0);
  size_t nl = text.find('\n');
  std::string dest = text.substr(0, nl);
  std::string pkg =
      nl == std::string::npos ? "" : text.substr(nl + 1, text.find('\n', nl + 1) - nl - 1);
  return Printable(dest) + " (package " + Printable(pkg) + ")";
}

}  // namespace nsbuild::merge
