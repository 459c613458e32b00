#include "merge/fd_walk.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>

namespace nsbuild::merge {
namespace {

using base::BorrowedFd;
using base::ErrnoError;
using base::Result;
using base::UniqueFd;

constexpr int kDirFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

// Kernels before 5.6 (and some seccomp filters) lack openat2; remember the
// first ENOSYS so we do not pay for it on every directory.
std::atomic<bool> g_no_openat2{false};

int TryOpenat2(int root, const std::string& rel) {
  if (g_no_openat2.load(std::memory_order_relaxed)) return -2;
  struct open_how how = {};
  how.flags = kDirFlags;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  int fd = static_cast<int>(::syscall(SYS_openat2, root, rel.c_str(), &how, sizeof how));
  if (fd < 0 && (errno == ENOSYS || errno == EPERM)) {
    g_no_openat2.store(true, std::memory_order_relaxed);
    return -2;
  }
  return fd;
}

bool BadComponent(std::string_view c) { return c.empty() || c == "." || c == ".."; }

template <typename Fn>
base::Status ForEachComponent(std::string_view rel, Fn fn) {
  size_t pos = 0;
  while (pos < rel.size()) {
    size_t slash = rel.find('/', pos);
    if (slash == std::string_view::npos) slash = rel.size();
    std::string_view c = rel.substr(pos, slash - pos);
    if (BadComponent(c)) {
      return base::PlainError("refusing path component \"" + std::string(c) + "\" in " +
                              std::string(rel));
    }
    NSB_TRY(fn(std::string(c), rel.substr(0, slash)));
    pos = slash + 1;
  }
  return {};
}

}  // namespace

Result<UniqueFd> OpenRootDir(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), kDirFlags));
  if (fd) return fd;
  int err = errno;
  struct stat st;
  if ((err == ENOTDIR || err == ELOOP) && ::lstat(dir.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
    // Say so: "Not a directory" about a link to a directory puzzles people.
    return base::PlainError(dir +
                            " is a symlink, which the merger never follows; give the "
                            "directory itself");
  }
  errno = err;
  return ErrnoError("open directory " + dir);
}

Result<UniqueFd> OpenDirBeneath(BorrowedFd root, std::string_view rel) {
  if (rel.empty()) {
    UniqueFd fd(::fcntl(root.get(), F_DUPFD_CLOEXEC, 0));
    if (!fd) return ErrnoError("dup directory fd");
    return fd;
  }
  std::string r(rel);
  int fd = TryOpenat2(root.get(), r);
  if (fd >= 0) return UniqueFd(fd);
  if (fd == -1) return ErrnoError("openat2 " + r + " beneath its root without symlinks");
  UniqueFd cur(::fcntl(root.get(), F_DUPFD_CLOEXEC, 0));
  if (!cur) return ErrnoError("dup directory fd");
  NSB_TRY(ForEachComponent(rel, [&](const std::string& c, std::string_view upto) -> base::Status {
    UniqueFd next(::openat(cur.get(), c.c_str(), kDirFlags));
    if (!next) return ErrnoError("open directory " + std::string(upto) + " (no symlinks)");
    cur = std::move(next);
    return {};
  }));
  return cur;
}

Result<UniqueFd> MakeDirsBeneath(BorrowedFd root, std::string_view rel, mode_t mode,
                                 std::vector<std::string>* created) {
  UniqueFd cur(::fcntl(root.get(), F_DUPFD_CLOEXEC, 0));
  if (!cur) return ErrnoError("dup directory fd");
  NSB_TRY(ForEachComponent(rel, [&](const std::string& c, std::string_view upto) -> base::Status {
    UniqueFd next(::openat(cur.get(), c.c_str(), kDirFlags));
    if (!next && errno == ENOENT) {
      if (::mkdirat(cur.get(), c.c_str(), 0700) != 0 && errno != EEXIST) {
        return ErrnoError("mkdir " + std::string(upto));
      }
      next.reset(::openat(cur.get(), c.c_str(), kDirFlags));
      if (next && ::fchmod(next.get(), mode) != 0) return ErrnoError("chmod " + std::string(upto));
      if (next && created) created->emplace_back(upto);
    }
    if (!next) return ErrnoError("open directory " + std::string(upto) + " (no symlinks)");
    cur = std::move(next);
    return {};
  }));
  return cur;
}

std::pair<std::string, std::string> SplitParent(std::string_view rel) {
  auto slash = rel.rfind('/');
  if (slash == std::string_view::npos) return {"", std::string(rel)};
  return {std::string(rel.substr(0, slash)), std::string(rel.substr(slash + 1))};
}

std::string JoinRel(std::string_view a, std::string_view b) {
  if (a.empty()) return std::string(b);
  if (b.empty()) return std::string(a);
  return std::string(a) + "/" + std::string(b);
}

base::Result<bool> LstatBeneath(base::BorrowedFd root, std::string_view rel, struct stat* st) {
  auto [parent, name] = SplitParent(rel);
  auto dir = OpenDirBeneath(root, parent);
  if (!dir.ok()) {
    if (dir.error().errnum == ENOENT || dir.error().errnum == ENOTDIR) return false;
    return dir.take_error();
  }
  if (name.empty())
    return ::fstat(dir->get(), st) == 0 ? base::Result<bool>(true)
                                        : base::ErrnoError("stat destination");
  if (::fstatat(dir->get(), name.c_str(), st, AT_SYMLINK_NOFOLLOW) == 0) return true;
  if (errno == ENOENT) return false;
  return base::ErrnoError("lstat " + std::string(rel));
}

}  // namespace nsbuild::merge
