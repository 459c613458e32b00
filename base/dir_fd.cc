#include "base/dir_fd.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <deque>

#include "base/fs.h"

namespace nsbuild::base {
namespace {

constexpr int kMaxLinks = 40;    // as the kernel's MAXSYMLINKS
constexpr int kMaxDepth = 4096;  // deeper trees are refused, not walked

bool Owns(const std::vector<uid_t>& owners, uid_t uid) {
  return std::find(owners.begin(), owners.end(), uid) != owners.end();
}

std::string OwnersText(const std::vector<uid_t>& owners) {
  bool root = Owns(owners, 0);
  bool other = std::any_of(owners.begin(), owners.end(), [](uid_t u) { return u != 0; });
  if (root && other) return "root or you";
  if (root) return "root";
  return "you";
}

// Group write is harmless when the group is root's.
bool LooseMode(const struct stat& st) {
  return (st.st_mode & S_IWOTH) || ((st.st_mode & S_IWGRP) && st.st_gid != 0);
}

std::atomic<bool> g_no_openat2{false};

// -1 with errno, or -2 when the kernel has no openat2.
int TryOpenat2(int dir, const std::string& rel, int flags, mode_t mode) {
  if (g_no_openat2.load(std::memory_order_relaxed)) return -2;
  struct open_how how = {};
  how.flags = static_cast<uint64_t>(flags);
  how.mode = (flags & O_CREAT) ? mode : 0;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  int fd = static_cast<int>(::syscall(SYS_openat2, dir, rel.c_str(), &how, sizeof how));
  if (fd < 0 && errno == ENOSYS) {
    g_no_openat2.store(true, std::memory_order_relaxed);
    return -2;
  }
  return fd;
}

// The walk of OpenTrustedDir/OpenTrustedFile: a stack of opened directories
// (so ".." after a symlink goes to the real parent), the components still to
// go, and the check applied at every step.
class TrustedWalk {
 public:
  TrustedWalk(const TrustCheck& check, bool create) : check_(check), create_(create) {}

  Result<UniqueFd> Run(const std::string& path, bool want_file) {
    if (path.empty()) return PlainError("empty path");
    std::string abs = path;
    if (abs[0] != '/') {
      char cwd[PATH_MAX];
      if (!::getcwd(cwd, sizeof cwd)) return ErrnoError("getcwd");
      abs = std::string(cwd) + "/" + path;
    }
    PushFront(abs);
    NSB_TRY(OpenRoot());
    while (!todo_.empty()) {
      std::string c = std::move(todo_.front());
      todo_.pop_front();
      if (c == ".") continue;
      if (c == "..") {
        if (stack_.size() > 1) stack_.pop_back();
        continue;
      }
      bool last = todo_.empty();
      struct stat st;
      NSB_TRY(Look(c, last && want_file, &st));
      if (S_ISLNK(st.st_mode)) {
        NSB_TRY(Follow(c));
      } else if (last && want_file) {
        return OpenFile(c, st);
      } else {
        NSB_TRY(Descend(c, st, last));
      }
    }
    if (want_file) return PlainError(path + ": not a regular file");
    return Finish();
  }

 private:
  struct Level {
    UniqueFd fd;
    struct stat st;
    std::string shown;
  };

  static std::string Join(const std::string& dir, const std::string& name) {
    return dir == "/" ? "/" + name : dir + "/" + name;
  }

  void PushFront(const std::string& p) {
    std::vector<std::string> parts;
    size_t pos = 0;
    while (pos <= p.size()) {
      size_t slash = p.find('/', pos);
      if (slash == std::string::npos) slash = p.size();
      if (slash > pos) parts.push_back(p.substr(pos, slash - pos));
      pos = slash + 1;
    }
    todo_.insert(todo_.begin(), parts.begin(), parts.end());
  }

  Status OpenRoot() {
    stack_.clear();
    Level root;
    root.fd.reset(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root.fd || ::fstat(root.fd.get(), &root.st) != 0) return ErrnoError("open /");
    root.shown = "/";
    stack_.push_back(std::move(root));
    return {};
  }

  // lstat of `c` in the current directory (made first when missing and
  // creating), and the current directory's check for stepping into it.
  Status Look(const std::string& c, bool file, struct stat* st) {
    Level& cur = stack_.back();
    std::string shown = Join(cur.shown, c);
    if (::fstatat(cur.fd.get(), c.c_str(), st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno != ENOENT || !create_ || file) return ErrnoError(shown);
      if (::mkdirat(cur.fd.get(), c.c_str(), 0755) != 0 && errno != EEXIST)
        return ErrnoError("mkdir " + shown);
      if (::fstatat(cur.fd.get(), c.c_str(), st, AT_SYMLINK_NOFOLLOW) != 0)
        return ErrnoError(shown);
    }
    if (!check_.check) return {};
    std::string why = DirTrustProblem(cur.st, cur.shown, st->st_uid, check_.owners);
    return why.empty() ? Status() : Status(PlainError(why));
  }

  // A symlink in a checked directory: its target's components go first, and
  // are checked like the rest.
  Status Follow(const std::string& c) {
    Level& cur = stack_.back();
    std::string shown = Join(cur.shown, c);
    if (++links_ > kMaxLinks) return Error{ELOOP, shown};
    char buf[PATH_MAX];
    ssize_t n = ::readlinkat(cur.fd.get(), c.c_str(), buf, sizeof buf);
    if (n < 0) return ErrnoError("readlink " + shown);
    if (n == 0 || static_cast<size_t>(n) == sizeof buf) return Error{ENAMETOOLONG, shown};
    std::string target(buf, static_cast<size_t>(n));
    PushFront(target);
    if (target[0] == '/') return OpenRoot();
    return {};
  }

  Result<UniqueFd> OpenFile(const std::string& c, const struct stat& st) {
    std::string shown = Join(stack_.back().shown, c);
    UniqueFd fd(::openat(stack_.back().fd.get(), c.c_str(),
                         O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    struct stat fst;
    if (!fd || ::fstat(fd.get(), &fst) != 0) return ErrnoError("open " + shown);
    if (fst.st_dev != st.st_dev || fst.st_ino != st.st_ino)
      return PlainError(shown + " changed while opened");
    if (!S_ISREG(fst.st_mode)) return PlainError(shown + ": not a regular file");
    if (check_.check) {
      std::string why = FileTrustProblem(fst, shown, check_.owners);
      if (!why.empty()) return PlainError(why);
    }
    return fd;
  }

  Status Descend(const std::string& c, const struct stat& st, bool last) {
    std::string shown = Join(stack_.back().shown, c);
    if (!S_ISDIR(st.st_mode)) return Error{ENOTDIR, shown};
    Level next;
    next.fd.reset(::openat(stack_.back().fd.get(), c.c_str(),
                           (last ? O_RDONLY : O_PATH) | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!next.fd || ::fstat(next.fd.get(), &next.st) != 0) return ErrnoError("open " + shown);
    // A mount point's lstat and fstat agree; a swap in between does not.
    if (next.st.st_ino != st.st_ino || next.st.st_dev != st.st_dev)
      return PlainError(shown + " changed while opened");
    next.shown = shown;
    stack_.push_back(std::move(next));
    return {};
  }

  // The last directory, checked with no entry below it (no sticky exception:
  // things are made in it), reopened readable.
  Result<UniqueFd> Finish() {
    Level& top = stack_.back();
    if (check_.check) {
      std::string why = DirTrustProblem(top.st, top.shown, std::nullopt, check_.owners);
      if (!why.empty()) return PlainError(why);
    }
    UniqueFd out(::openat(top.fd.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!out) return ErrnoError("open " + top.shown);
    return out;
  }

  const TrustCheck& check_;
  bool create_;
  std::deque<std::string> todo_;
  std::vector<Level> stack_;
  int links_ = 0;
};

Status RemoveContents(int dir, const std::string& shown, uint64_t mnt, int depth);

Status RemoveEntry(int dir, const std::string& name, const std::string& shown, uint64_t parent_mnt,
                   int depth) {
  struct statx sx = {};
  if (::statx(dir, name.c_str(), AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, STATX_TYPE | STATX_MNT_ID,
              &sx) != 0) {
    if (errno == ENOENT) return {};
    if (errno == ENOTCONN)
      return PlainError(shown + " is a mount point whose daemon died; not removing through it");
    return ErrnoError("stat " + shown);
  }
  if (!S_ISDIR(sx.stx_mode)) {
    if (::unlinkat(dir, name.c_str(), 0) != 0 && errno != ENOENT)
      return ErrnoError("remove " + shown);
    return {};
  }
  if (depth > kMaxDepth)
    return PlainError(shown + ": deeper than " + std::to_string(kMaxDepth) + " levels");
  // The directory itself, never a symlink swapped in; its mount checked on
  // the fd, so what is entered is what was checked.
  UniqueFd path_fd(::openat(dir, name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!path_fd) return ErrnoError("open " + shown);
  auto mnt = MountIdOf(path_fd);
  if (!mnt.ok()) return Wrap(mnt.take_error(), shown);
  if (parent_mnt != 0 && *mnt != parent_mnt) {
    return PlainError(shown + " is a mount point; not removing through it (unmount it first)");
  }
  // Through the fd: chmod has no variant that refuses a symlink everywhere.
  (void)::chmod(ProcFdPath(path_fd.get()).c_str(), 0700);
  UniqueFd sub(::openat(path_fd.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!sub) return ErrnoError("open " + shown);
  NSB_TRY(RemoveContents(sub.get(), shown, *mnt, depth + 1));
  if (::unlinkat(dir, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT)
    return ErrnoError("remove " + shown);
  return {};
}

Status RemoveContents(int dir, const std::string& shown, uint64_t mnt, int depth) {
  // Names first, stream closed: one fd per level while descending.
  for (const auto& name : ListNames(dir))
    NSB_TRY(RemoveEntry(dir, name, shown + "/" + name, mnt, depth));
  return {};
}

Status WalkLevel(int dir, const std::string& rel, uint64_t mnt, int depth,
                 const std::function<bool(int, const std::string&, const struct stat&)>& fn) {
  if (depth > kMaxDepth)
    return PlainError(rel + ": deeper than " + std::to_string(kMaxDepth) + " levels");
  std::vector<std::string> names = ListNames(dir);
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    std::string r = rel.empty() ? name : rel + "/" + name;
    struct statx sx = {};
    if (::statx(dir, name.c_str(), AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT,
                STATX_BASIC_STATS | STATX_MNT_ID, &sx) != 0) {
      if (errno == ENOENT) continue;
      return ErrnoError("stat " + r);
    }
    struct stat st;
    if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;
      return ErrnoError("stat " + r);
    }
    bool enter = fn(dir, r, st);
    if (!S_ISDIR(st.st_mode) || !enter) continue;
    if ((sx.stx_mask & STATX_MNT_ID) && mnt != 0 && sx.stx_mnt_id != mnt)
      continue;  // a mount point
    UniqueFd sub(::openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!sub) {
      if (errno == ENOENT || errno == ELOOP || errno == ENOTDIR) continue;  // swapped meanwhile
      return ErrnoError("open " + r);
    }
    NSB_TRY(
        WalkLevel(sub.get(), r, (sx.stx_mask & STATX_MNT_ID) ? sx.stx_mnt_id : 0, depth + 1, fn));
  }
  return {};
}

}  // namespace

std::vector<std::string> ListNames(int dir) {
  std::vector<std::string> names;
  int dup = ::fcntl(dir, F_DUPFD_CLOEXEC, 0);
  if (dup < 0) return names;
  DIR* d = ::fdopendir(dup);
  if (!d) {
    ::close(dup);
    return names;
  }
  ::rewinddir(d);
  while (dirent* e = ::readdir(d)) {
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
    names.emplace_back(e->d_name);
  }
  ::closedir(d);
  return names;
}

TrustCheck DefaultTrustCheck() {
  TrustCheck c;
  c.check = ::geteuid() == 0;
  c.owners = {0};
  if (::geteuid() != 0) c.owners.push_back(::geteuid());
  return c;
}

TrustCheck RootOnlyTrustCheck() {
  TrustCheck c;
  c.check = ::geteuid() == 0;
  c.owners = {0};
  return c;
}

std::string DirTrustProblem(const struct stat& dir, const std::string& where,
                            std::optional<uid_t> next_owner, const std::vector<uid_t>& owners) {
  if (!Owns(owners, dir.st_uid)) {
    return where + " is owned by uid " + std::to_string(dir.st_uid) + ", not by " +
           OwnersText(owners) + ": its owner could swap what nsbuild opens there for a symlink";
  }
  if (!LooseMode(dir)) return "";
  // /tmp: others may create names, but only a name's owner (or root) may
  // rename or remove it, so stepping into one of ours is safe.
  bool sticky = (dir.st_mode & S_ISVTX) && dir.st_uid == 0;
  if (sticky && next_owner && Owns(owners, *next_owner)) return "";
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(dir.st_mode & 07777));
  if (sticky && next_owner) {
    return where + " (mode " + mode + ", sticky) holds an entry on the path that is owned by uid " +
           std::to_string(*next_owner) + ", not by " + OwnersText(owners);
  }
  return where + " is writable by " + ((dir.st_mode & S_IWOTH) ? "others" : "its group") +
         " (mode " + mode +
         "): anyone who can write there could swap what nsbuild opens for a symlink";
}

std::string FileTrustProblem(const struct stat& file, const std::string& where,
                             const std::vector<uid_t>& owners) {
  if (!Owns(owners, file.st_uid)) {
    return where + " is owned by uid " + std::to_string(file.st_uid) + ", not by " +
           OwnersText(owners);
  }
  if (LooseMode(file)) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(file.st_mode & 07777));
    return where + " is writable by " + ((file.st_mode & S_IWOTH) ? "others" : "its group") +
           " (mode " + mode + ")";
  }
  return "";
}

Result<UniqueFd> OpenTrustedDir(const std::string& path, const TrustCheck& check, bool create) {
  return TrustedWalk(check, create).Run(path, /*want_file=*/false);
}

Result<UniqueFd> OpenTrustedFile(const std::string& path, const TrustCheck& check) {
  return TrustedWalk(check, false).Run(path, /*want_file=*/true);
}

Result<UniqueFd> OpenBeneath(BorrowedFd dir, const std::string& rel, int flags, mode_t mode) {
  if (rel.empty() || rel[0] == '/') return Error{EXDEV, rel + ": must be a relative path"};
  flags |= O_CLOEXEC | O_NOFOLLOW;
  // O_PATH | O_NOFOLLOW would hand back a final symlink itself.
  auto not_a_link = [&rel](UniqueFd out) -> Result<UniqueFd> {
    struct stat st;
    if (::fstat(out.get(), &st) == 0 && S_ISLNK(st.st_mode)) {
      return Error{ELOOP, rel + ": a symlink on the way (never followed here)"};
    }
    return out;
  };
  int fd = TryOpenat2(dir.get(), rel, flags, mode);
  if (fd >= 0) return not_a_link(UniqueFd(fd));
  if (fd == -1) {
    if (errno == EXDEV) return Error{EXDEV, rel + ": leaves its directory"};
    if (errno == ELOOP) return Error{ELOOP, rel + ": a symlink on the way (never followed here)"};
    return ErrnoError(rel);
  }
  // No openat2: one component at a time, no "..", no symlink.
  UniqueFd cur(::fcntl(dir.get(), F_DUPFD_CLOEXEC, 0));
  if (!cur) return ErrnoError("dup");
  size_t pos = 0;
  for (;;) {
    size_t slash = rel.find('/', pos);
    bool last = slash == std::string::npos;
    std::string c = rel.substr(pos, last ? std::string::npos : slash - pos);
    if (c == "..") return Error{EXDEV, rel + ": '..' is not followed here"};
    if (last) {
      UniqueFd out(::openat(cur.get(), c.c_str(), flags, mode));
      if (!out) return ErrnoError(rel);
      return not_a_link(std::move(out));
    }
    if (!c.empty() && c != ".") {
      UniqueFd next(::openat(cur.get(), c.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!next) return ErrnoError(rel);
      cur = std::move(next);
    }
    pos = slash + 1;
  }
}

Result<uint64_t> MountIdOf(BorrowedFd fd) {
  struct statx sx = {};
  if (::statx(fd.get(), "", AT_EMPTY_PATH | AT_NO_AUTOMOUNT, STATX_MNT_ID, &sx) == 0 &&
      (sx.stx_mask & STATX_MNT_ID)) {
    return static_cast<uint64_t>(sx.stx_mnt_id);
  }
  auto info = ReadFile("/proc/self/fdinfo/" + std::to_string(fd.get()));
  if (!info.ok()) return info.take_error();
  auto pos = info->find("mnt_id:");
  if (pos == std::string::npos) return PlainError("no mnt_id in /proc/self/fdinfo");
  return static_cast<uint64_t>(std::strtoull(info->c_str() + pos + 7, nullptr, 10));
}

Status RemoveTreeAt(BorrowedFd dir, const std::string& name) {
  uint64_t mnt = 0;
  if (auto m = MountIdOf(dir); m.ok()) mnt = *m;
  return RemoveEntry(dir.get(), name, name, mnt, 0);
}

Result<UniqueFd> MakeFreshDirAt(BorrowedFd dir, const std::string& name, mode_t mode) {
  NSB_TRY(RemoveTreeAt(dir, name));
  if (::mkdirat(dir.get(), name.c_str(), 0700) != 0) return ErrnoError("mkdir " + name);
  NSB_ASSIGN_OR_RETURN(UniqueFd fd, OpenDirAt(dir, name));
  if (::fchmod(fd.get(), mode) != 0) return ErrnoError("chmod " + name);
  return fd;
}

Result<UniqueFd> OpenDirAt(BorrowedFd dir, const std::string& name) {
  UniqueFd fd(::openat(dir.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return ErrnoError("open " + name);
  return fd;
}

Status WriteFileAtomicAt(BorrowedFd dir, const std::string& name, std::string_view data,
                         mode_t mode) {
  std::string tmp = name + ".tmp";
  NSB_TRY(RemoveTreeAt(dir, tmp));
  UniqueFd fd(
      ::openat(dir.get(), tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
  if (!fd) return ErrnoError("create " + tmp);
  if (auto s = WriteAll(fd, data); !s) return Wrap(s.take_error(), tmp);
  if (::fchmod(fd.get(), mode) != 0) return ErrnoError("chmod " + tmp);
  if (::fsync(fd.get()) != 0) return ErrnoError("fsync " + tmp);
  fd.reset();
  if (::renameat(dir.get(), tmp.c_str(), dir.get(), name.c_str()) != 0) {
    return ErrnoError("rename " + tmp + " to " + name);
  }
  return {};
}

Status WalkTreeAt(
    BorrowedFd dir,
    const std::function<bool(int dir_fd, const std::string& rel, const struct stat& st)>& fn) {
  uint64_t mnt = 0;
  if (auto m = MountIdOf(dir); m.ok()) mnt = *m;
  return WalkLevel(dir.get(), "", mnt, 0, fn);
}

Result<std::string> ReadFdBounded(BorrowedFd fd, const std::string& what, size_t max) {
  std::string out;
  char buf[16384];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError("read " + what);
    if (n == 0) return out;
    if (out.size() + static_cast<size_t>(n) > max) {
      return PlainError(what + ": larger than " + std::to_string(max) + " bytes");
    }
    out.append(buf, static_cast<size_t>(n));
  }
}

std::string ProcFdPath(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

}  // namespace nsbuild::base
