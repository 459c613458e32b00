#include "merge/transaction.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <thread>

#include "base/dir_fd.h"
#include "base/fs.h"
#include "base/sliced.h"
#include "merge/database.h"
#include "merge/fd_walk.h"
#include "merge/journal.h"

namespace nsbuild::merge {
namespace {

using base::BorrowedFd;
using base::ErrnoError;
using base::Status;
using base::UniqueFd;

// Test hook: NSBUILD_MERGE_ABORT_AFTER=K kills the process with SIGKILL
// right after the K-th change to the destination, to prove that recovery
// handles a crash at every point.
class FaultHook {
 public:
  FaultHook() {
    const char* v = std::getenv("NSBUILD_MERGE_ABORT_AFTER");
    limit_ = v ? std::atol(v) : 0;
  }
  void Tick() {  // from several lanes at once (Executor)
    if (limit_ > 0 && count_.fetch_add(1) + 1 >= limit_) ::kill(::getpid(), SIGKILL);
  }

 private:
  long limit_ = 0;
  std::atomic<long> count_{0};
};

// What became of each operation in this process, so that a rollback undoes
// exactly the operations that ran, whichever lane ran them.
enum OpState : uint8_t { kNotRun, kRan, kFailed };

// One open directory, reused while consecutive operations stay in it.
class DirCache {
 public:
  explicit DirCache(BorrowedFd root) : root_(root) {}
  base::Result<int> Get(const std::string& rel) {
    if (!fd_ || rel != rel_) {
      NSB_ASSIGN_OR_RETURN(fd_, OpenDirBeneath(root_, rel));
      rel_ = rel;
    }
    return fd_.get();
  }

 private:
  BorrowedFd root_;
  UniqueFd fd_;
  std::string rel_;
};

Status FsyncFd(int fd, const std::string& what) {
  if (::fsync(fd) != 0) return ErrnoError("fsync " + what);
  return {};
}

// Writes name in db_dir through a temporary name, fsynced, then the dir.
Status WriteDurably(BorrowedFd db_dir, const std::string& name, const std::string& text) {
  std::string tmp = name + ".tmp";
  UniqueFd fd(::openat(db_dir.get(), tmp.c_str(),
                       O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644));
  if (!fd) return ErrnoError("create var/lib/nsbuild/" + tmp);
  if (auto s = base::WriteAll(fd, text); !s) return base::Wrap(s.take_error(), tmp);
  NSB_TRY(FsyncFd(fd.get(), tmp));
  if (::renameat(db_dir.get(), tmp.c_str(), db_dir.get(), name.c_str()) != 0) {
    return ErrnoError("rename var/lib/nsbuild/" + tmp);
  }
  return FsyncFd(db_dir.get(), "var/lib/nsbuild");
}

bool Gone(int rc) { return rc == 0 || errno == ENOENT; }

Status CopyBytes(int src, int out, const std::string& what) {
  for (;;) {
    ssize_t n = ::copy_file_range(src, nullptr, out, nullptr, 1 << 30, 0);
    if (n == 0) return {};
    if (n > 0) continue;
    if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP) {
      return ErrnoError("copy " + what);
    }
    break;  // no in-kernel copy between these filesystems: do it by hand
  }
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(src, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError("read " + what);
    if (n == 0) return {};
    if (auto s = base::WriteAll(BorrowedFd(out), std::string_view(buf, size_t(n))); !s) {
      return base::Wrap(s.take_error(), what);
    }
  }
}

// Creates `name` in dstdir from src (or from the item's bytes when src is
// -1): a reflink when the filesystems allow, else a copy; owner, mode and
// mtime set; fsynced. Used for generated files and for images on another
// filesystem than the destination.
Status WriteNew(int src, int dstdir, const std::string& name, const PlanItem& it,
                const MergePolicy& p) {
  UniqueFd out(
      ::openat(dstdir, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!out) return ErrnoError("create " + name + " for /" + it.path);
  if (src < 0) {
    NSB_TRY(base::WriteAll(out, it.content));
  } else if (::ioctl(out.get(), FICLONE, src) != 0) {
    NSB_TRY(CopyBytes(src, out.get(), "/" + it.path));
  }
  if (::geteuid() == 0 && ::fchown(out.get(), p.owner_uid, p.owner_gid) != 0) {
    return ErrnoError("chown /" + it.path);
  }
  if (::fchmod(out.get(), it.perm) != 0) return ErrnoError("chmod /" + it.path);
  struct timespec ts[2] = {{it.mtime, 0}, {it.mtime, 0}};
  if (::futimens(out.get(), ts) != 0) return ErrnoError("set mtime of /" + it.path);
  return FsyncFd(out.get(), "/" + it.path);
}

// Links the inode open on `fd` as `name` in `dir`. AT_EMPTY_PATH needs
// CAP_DAC_READ_SEARCH (root has it); without it the kernel refuses with
// ENOENT, and the /proc/self/fd magic link, followed, names the same inode
// (allowed to the file's owner, which an unprivileged merger is).
int LinkFd(int fd, int dir, const std::string& name) {
  static const bool empty_path = ::geteuid() == 0;
  if (empty_path) {
    if (::linkat(fd, "", dir, name.c_str(), AT_EMPTY_PATH) == 0) return 0;
    if (errno != ENOENT && errno != EPERM) return -1;
  }
  std::string proc = base::ProcFdPath(fd);
  return ::linkat(AT_FDCWD, proc.c_str(), dir, name.c_str(), AT_SYMLINK_FOLLOW);
}

// Undo (state "prepared") or finish (state "committed") a journal's
// operations. Each step tolerates having been done already, because a crash
// may also interrupt recovery itself.
class Resolver {
 public:
  Resolver(const DestLock& lock, const Journal& j, FaultHook* hook)
      : lock_(lock), j_(j), dirs_(lock.dest), hook_(hook) {}

  // `ran` says which operations ran in this process: only those are undone,
  // and a failed one's final name is not ours to remove (it may have failed
  // precisely because something else holds that name). Without it, recovery
  // after a crash does not know how far the merge got and undoes every
  // operation; the destination lock keeps other nsbuild processes out
  // meanwhile.
  Status RollBack(const std::vector<uint8_t>* ran = nullptr) {
    for (size_t i = j_.ops.size(); i-- > 0;) {
      uint8_t state = ran ? (*ran)[i] : uint8_t{kRan};
      if (state != kNotRun) NSB_TRY(Undo(i, state == kFailed));
    }
    std::string fresh = j_.package + ".json.new";
    if (!Gone(::unlinkat(lock_.db_dir.get(), fresh.c_str(), 0)))
      return ErrnoError("unlink " + fresh);
    return Close();
  }

  Status RollForward() {
    std::string db = j_.package + ".json";
    if (j_.delete_db) {
      if (!Gone(::unlinkat(lock_.db_dir.get(), db.c_str(), 0))) return ErrnoError("unlink " + db);
    } else if (::renameat(lock_.db_dir.get(), (db + ".new").c_str(), lock_.db_dir.get(),
                          db.c_str()) != 0 &&
               errno != ENOENT) {
      return ErrnoError("rename " + db + ".new");
    }
    hook_->Tick();
    NSB_TRY(FsyncFd(lock_.db_dir.get(), "var/lib/nsbuild"));
    for (size_t i = 0; i < j_.ops.size(); ++i) NSB_TRY(Drop(i));
    for (size_t i = 0; i < j_.ops.size(); ++i) NSB_TRY(RemoveDir(i));
    return Close();
  }

 private:
  // The op's directory, or -1 when it does not exist (nothing happened there).
  base::Result<int> Dir(size_t i) {
    auto d = dirs_.Get(SplitParent(j_.ops[i].path).first);
    if (!d.ok() && (d.error().errnum == ENOENT || d.error().errnum == ENOTDIR)) return -1;
    return d;
  }

  Status Undo(size_t i, bool partial) {
    const Op& op = j_.ops[i];
    NSB_ASSIGN_OR_RETURN(int dir, Dir(i));
    if (dir < 0) return {};
    std::string name = SplitParent(op.path).second, tmp = TmpName(i), old = OldName(i);
    if (!Gone(::unlinkat(dir, tmp.c_str(), 0))) return ErrnoError("unlink " + tmp);
    // An add or mkdir creates its final name last: if it failed, that name
    // is not ours.
    if (partial && (op.kind == OpKind::kAdd || op.kind == OpKind::kMkdir)) return {};
    switch (op.kind) {
      case OpKind::kAdd:
        if (!Gone(::unlinkat(dir, name.c_str(), 0))) return ErrnoError("unlink /" + op.path);
        break;
      case OpKind::kReplace:
      case OpKind::kRemove:
        if (::renameat(dir, old.c_str(), dir, name.c_str()) != 0 && errno != ENOENT) {
          return ErrnoError("restore /" + op.path);
        }
        // rename(2) between two links of one inode does nothing: a crash
        // right after the backup link leaves both names on the old file.
        if (!Gone(::unlinkat(dir, old.c_str(), 0))) return ErrnoError("unlink " + old);
        break;
      case OpKind::kMkdir:
        if (::unlinkat(dir, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
          return ErrnoError("remove directory /" + op.path);
        }
        break;
      case OpKind::kRmdir:
        return {};  // only ever done after commit
    }
    hook_->Tick();
    return {};
  }

  Status Drop(size_t i) {
    const Op& op = j_.ops[i];
    if (op.kind != OpKind::kReplace && op.kind != OpKind::kRemove) return {};
    NSB_ASSIGN_OR_RETURN(int dir, Dir(i));
    if (dir < 0) return {};
    std::string old = OldName(i);
    if (!Gone(::unlinkat(dir, old.c_str(), 0))) return ErrnoError("unlink /" + op.path + " backup");
    hook_->Tick();
    return {};
  }

  // A directory the package no longer ships goes when nothing else is in it.
  Status RemoveDir(size_t i) {
    const Op& op = j_.ops[i];
    if (op.kind != OpKind::kRmdir) return {};
    NSB_ASSIGN_OR_RETURN(int dir, Dir(i));
    if (dir < 0) return {};
    std::string name = SplitParent(op.path).second;
    if (::unlinkat(dir, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT && errno != ENOTEMPTY &&
        errno != EEXIST) {
      return ErrnoError("remove directory /" + op.path);
    }
    hook_->Tick();
    return {};
  }

  Status Close() {
    if (::syncfs(lock_.dest.get()) != 0) return ErrnoError("syncfs destination");
    if (!Gone(::unlinkat(lock_.db_dir.get(), kJournalName, 0))) return ErrnoError("unlink journal");
    hook_->Tick();
    return FsyncFd(lock_.db_dir.get(), "var/lib/nsbuild");
  }

  const DestLock& lock_;
  const Journal& j_;
  DirCache dirs_;
  FaultHook* hook_;
};

// The source inodes more than one plan item links (names of one inode in
// the image, or one inode in several images), sorted.
std::vector<std::pair<dev_t, ino_t>> SharedInodes(const std::vector<PlanItem>& items) {
  std::vector<std::pair<dev_t, ino_t>> all, shared;
  for (const auto& it : items) {
    if (it.image >= 0 && it.type == EntryType::kFile)
      all.emplace_back(it.src_pin.dev, it.src_pin.ino);
  }
  std::sort(all.begin(), all.end());
  for (size_t i = 1; i < all.size(); ++i) {
    if (all[i] == all[i - 1] && (shared.empty() || shared.back() != all[i]))
      shared.push_back(all[i]);
  }
  return shared;
}

// Carries out operations, one at a time, on one thread: its own directory
// fds (kept while consecutive operations stay in one directory) and its own
// checked source.
class Lane {
 public:
  Lane(const DestLock& lock, const DestPlan& plan, const std::vector<ScannedImage>& images,
       const MergePolicy& p, FaultHook* hook, const std::vector<std::pair<dev_t, ino_t>>* shared)
      : plan_(plan),
        images_(images),
        policy_(p),
        dirs_(lock.dest),
        hook_(*hook),
        shared_inodes_(*shared) {
    for (const auto& img : images) src_dirs_.emplace_back(img.root);
  }

  Status One(size_t i) {
    const Op& op = plan_.ops[i];
    auto [parent, name] = SplitParent(op.path);
    NSB_ASSIGN_OR_RETURN(int dir, dirs_.Get(parent));
    switch (op.kind) {
      case OpKind::kMkdir:
        return Mkdir(dir, name, op);
      case OpKind::kAdd:
        return Create(i, dir, name, plan_.items[op.item], true);
      case OpKind::kReplace:
        return Replace(i, dir, name, plan_.items[op.item]);
      case OpKind::kRemove:
        if (::renameat(dir, name.c_str(), dir, OldName(i).c_str()) != 0) {
          return ErrnoError("remove /" + op.path);
        }
        hook_.Tick();
        return {};
      case OpKind::kRmdir:
        return {};  // after commit, once the .nsb-old.K inside are gone
    }
    return {};
  }

 private:
  Status Mkdir(int dir, const std::string& name, const Op& op) {
    if (::mkdirat(dir, name.c_str(), 0700) != 0) return ErrnoError("mkdir /" + op.path);
    hook_.Tick();
    if (root_ &&
        ::fchownat(dir, name.c_str(), policy_.owner_uid, policy_.owner_gid, AT_SYMLINK_NOFOLLOW)) {
      return ErrnoError("chown /" + op.path);
    }
    if (::fchmodat(dir, name.c_str(), op.perm, 0) != 0) return ErrnoError("chmod /" + op.path);
    return {};
  }

  Status Replace(size_t i, int dir, const std::string& name, const PlanItem& it) {
    std::string old = OldName(i), tmp = TmpName(i);
    if (::linkat(dir, name.c_str(), dir, old.c_str(), 0) != 0) {
      return ErrnoError("keep the old /" + it.path);
    }
    hook_.Tick();
    NSB_TRY(Create(i, dir, tmp, it, false));
    if (::renameat(dir, tmp.c_str(), dir, name.c_str()) != 0) {
      return ErrnoError("rename the new /" + it.path + " into place");
    }
    hook_.Tick();
    return {};
  }

  // Makes `name` (which must not exist) hold the item. A hardlink or a
  // symlink appears atomically under its final name; bytes are written to
  // .nsb-tmp.K first and renamed without replacing.
  Status Create(size_t i, int dir, const std::string& name, const PlanItem& it, bool final_name) {
    if (it.type == EntryType::kSymlink) return Symlink(dir, name, it);
    UniqueFd src;
    if (it.image >= 0) {
      // Never by name: the inode linked is the one on the fd that was just
      // checked against what was sealed and hashed.
      NSB_ASSIGN_OR_RETURN(int fd, SourceFd(it));
      if (LinkFd(fd, dir, name) == 0) {
        Relinked(it);
        hook_.Tick();
        return {};
      }
      if (errno != EXDEV) {
        return ErrnoError("link /" + it.src + " of image " + images_[it.image].path +
                          " into the destination");
      }
      // Another filesystem: copy the checked inode's bytes.
      NSB_ASSIGN_OR_RETURN(src, ReopenForReading(fd, it));
    }
    std::string tmp = final_name ? TmpName(i) : name;
    NSB_TRY(WriteNew(src ? src.get() : -1, dir, tmp, it, policy_));
    hook_.Tick();
    if (final_name) {
      if (::renameat2(dir, tmp.c_str(), dir, name.c_str(), RENAME_NOREPLACE) != 0) {
        return ErrnoError("rename the new /" + it.path + " into place");
      }
      hook_.Tick();
    }
    return {};
  }

  Status Symlink(int dir, const std::string& name, const PlanItem& it) {
    NSB_ASSIGN_OR_RETURN(bool linked, LinkSymlink(dir, name, it));
    if (!linked) {
      if (::symlinkat(it.target.c_str(), dir, name.c_str()) != 0) {
        return ErrnoError("symlink /" + it.path);
      }
      if (root_) {
        ::fchownat(dir, name.c_str(), policy_.owner_uid, policy_.owner_gid, AT_SYMLINK_NOFOLLOW);
      }
    }
    hook_.Tick();
    return {};
  }

  // An image's symlink is linked, as cp -al does, rather than made anew: a
  // link allocates no inode, and allocating them was most of the cost of
  // creating symlinks (perf: ext4's find_inode_bit under symlinkat). Safe
  // because sealing gave the inode to the policy's owner and stripped its
  // xattrs, and a symlink's target never changes: the fd must name the
  // scanned inode, and its own target (read through the fd) must be the
  // checked one. False (make a new symlink) without root, where
  // AT_EMPTY_PATH is refused, when the inode is not the policy's owner's,
  // and across filesystems.
  base::Result<bool> LinkSymlink(int dir, const std::string& name, const PlanItem& it) {
    if (it.image < 0 || !root_) return false;
    auto [parent, base] = SplitParent(it.src);
    NSB_ASSIGN_OR_RETURN(int sdir, src_dirs_[it.image].Get(parent));
    UniqueFd fd(::openat(sdir, base.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    struct stat st;
    char buf[4096];
    ssize_t n = -1;
    if (fd && ::fstat(fd.get(), &st) == 0 && S_ISLNK(st.st_mode))
      n = ::readlinkat(fd.get(), "", buf, sizeof buf);
    if (n < 0 || st.st_dev != it.src_pin.dev || st.st_ino != it.src_pin.ino ||
        std::string_view(buf, size_t(n)) != it.target) {
      return base::PlainError("/" + it.src + " in image " + images_[it.image].path +
                              " changed after it was checked (symlink)");
    }
    if (st.st_uid != policy_.owner_uid || st.st_gid != policy_.owner_gid) return false;
    if (::linkat(fd.get(), "", dir, name.c_str(), AT_EMPTY_PATH) == 0) return true;
    if (errno == EXDEV || errno == EMLINK || errno == EPERM) return false;
    return ErrnoError("link symlink /" + it.src + " of image " + images_[it.image].path);
  }

  // The source file, open, and still exactly the inode that was sealed and
  // hashed. Linking moves an inode's ctime: for an inode with several names
  // in the image, the next name is held to the ctime our own link left.
  base::Result<int> SourceFd(const PlanItem& it) {
    PlanItem pinned = it;
    auto key = std::make_pair(it.src_pin.dev, it.src_pin.ino);
    if (auto f = relinked_.find(key); f != relinked_.end()) pinned.src_pin.ctime_ns = f->second;
    NSB_ASSIGN_OR_RETURN(src_, OpenSource(pinned));
    return src_.get();
  }

  // After a link of src_: the ctime it now has, for its other names. An
  // inode the plan names once has none to tell: no fstat for it.
  void Relinked(const PlanItem& it) {
    std::pair<dev_t, ino_t> key{it.src_pin.dev, it.src_pin.ino};
    if (!std::binary_search(shared_inodes_.begin(), shared_inodes_.end(), key)) return;
    struct stat st;
    if (::fstat(src_.get(), &st) == 0 && st.st_nlink > 1) {
      relinked_[{it.src_pin.dev, it.src_pin.ino}] = PinOf(st).ctime_ns;
    }
  }

  // PinMismatch: same inode, owner, mode, size and ctime. O_PATH: the fd
  // only has to name the inode for fstat and linkat, and such an open skips
  // the work a readable one costs (permission check, fsnotify, lease break);
  // a symlink or a fifo is not opened either, and fstat then says its type.
  base::Result<UniqueFd> OpenSource(const PlanItem& it) {
    auto [parent, name] = SplitParent(it.src);
    NSB_ASSIGN_OR_RETURN(int sdir, src_dirs_[it.image].Get(parent));
    UniqueFd fd(::openat(sdir, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    struct stat st;
    if (!fd || ::fstat(fd.get(), &st) != 0) {
      return ErrnoError("open /" + it.src + " in image " + images_[it.image].path);
    }
    std::string differs = S_ISREG(st.st_mode) ? PinMismatch(it.src_pin, st) : "type";
    if (!differs.empty()) {
      return base::PlainError("/" + it.src + " in image " + images_[it.image].path +
                              " changed after it was checked (" + differs + ")");
    }
    return fd;
  }

  // The checked inode, readable: its /proc/self/fd link leads to exactly
  // the inode the O_PATH fd names, whatever its name in the image is now.
  base::Result<UniqueFd> ReopenForReading(int fd, const PlanItem& it) {
    std::string proc = base::ProcFdPath(fd);
    UniqueFd readable(::open(proc.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
    if (!readable) return ErrnoError("reopen /" + it.src + " of image " + images_[it.image].path);
    return readable;
  }

  const DestPlan& plan_;
  const std::vector<ScannedImage>& images_;
  const MergePolicy& policy_;
  DirCache dirs_;
  std::vector<DirCache> src_dirs_;
  FaultHook& hook_;
  UniqueFd src_;                                               // the source just checked
  std::map<std::pair<dev_t, ino_t>, int64_t> relinked_;        // ctime after our own link
  const std::vector<std::pair<dev_t, ino_t>>& shared_inodes_;  // sorted: named by several items
  const bool root_ = ::geteuid() == 0;
};

// Links of image files whose inode no other item names are independent of
// one another (one new name each, in a directory made before them): they
// are split between lanes on several threads, the kernel work of a link
// being the merge's largest. Everything else runs first, in plan order, on
// one lane: directories (which those links need), replacements, removals,
// symlinks, generated files, and inodes named twice (the ctime each link is
// held to follows our own previous link of it).
constexpr size_t kOpsPerLane = 2048;  // fewer: one lane (threads cost more)

class Executor {
 public:
  Executor(const DestLock& lock, const DestPlan& plan, const std::vector<ScannedImage>& images,
           const MergePolicy& p)
      : lock_(lock), plan_(plan), images_(images), policy_(p) {
    journal_.package = plan.package;
    journal_.delete_db = plan.delete_db;
    journal_.ops = plan.ops;
    shared_inodes_ = SharedInodes(plan.items);
  }

  Status Run() {
    NSB_TRY(WriteDurably(lock_.db_dir, kJournalName, SerializeJournal(journal_)));
    hook_.Tick();
    Status s = Apply();
    if (!s.ok()) {
      Status rb = Resolver(lock_, journal_, &hook_).RollBack(&state_);
      if (!rb.ok()) {
        return base::PlainError(s.error().Message() + "; rolling back failed too (" +
                                rb.error().Message() + "): run nsbuild merge --recover");
      }
      return base::PlainError(s.error().Message() + " (nothing was changed)");
    }
    journal_.committed = true;
    NSB_TRY(WriteDurably(lock_.db_dir, kJournalName, SerializeJournal(journal_)));
    hook_.Tick();
    return Resolver(lock_, journal_, &hook_).RollForward();
  }

 private:
  Status Apply() {
    state_.assign(plan_.ops.size(), kNotRun);
    std::vector<size_t> first, linked;
    for (size_t i = 0; i < plan_.ops.size(); ++i) (Independent(i) ? linked : first).push_back(i);
    if (linked.size() < kOpsPerLane) {  // all in plan order
      first.insert(first.end(), linked.begin(), linked.end());
      std::sort(first.begin(), first.end());
      linked.clear();
    }
    NSB_TRY(RunOps(*NewLane(), first, 0, first.size()));
    NSB_TRY(RunLanes(linked));
    // One syncfs makes every link and directory durable: far cheaper than
    // an fsync per touched directory, and it must precede "committed".
    if (::syncfs(lock_.dest.get()) != 0) return ErrnoError("syncfs destination");
    if (plan_.delete_db) return {};
    std::string fresh = plan_.package + ".json.new";
    UniqueFd fd(::openat(lock_.db_dir.get(), fresh.c_str(),
                         O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (!fd) return ErrnoError("create var/lib/nsbuild/" + fresh);
    NSB_TRY(base::WriteAll(fd, SerializeDb(plan_.new_db)));
    NSB_TRY(FsyncFd(fd.get(), fresh));
    hook_.Tick();
    return FsyncFd(lock_.db_dir.get(), "var/lib/nsbuild");
  }

  bool Independent(size_t i) const {
    const Op& op = plan_.ops[i];
    if (op.kind != OpKind::kAdd) return false;
    const PlanItem& it = plan_.items[op.item];
    return it.image >= 0 && it.type == EntryType::kFile &&
           !std::binary_search(shared_inodes_.begin(), shared_inodes_.end(),
                               std::make_pair(it.src_pin.dev, it.src_pin.ino));
  }

  std::unique_ptr<Lane> NewLane() {
    return std::make_unique<Lane>(lock_, plan_, images_, policy_, &hook_, &shared_inodes_);
  }

  // Operations ops[lo, hi) in order; every lane stops at the first failure
  // of any, and each operation's state is kept for the rollback.
  Status RunOps(Lane& lane, const std::vector<size_t>& ops, size_t lo, size_t hi) {
    for (size_t k = lo; k < hi && !stop_.load(std::memory_order_relaxed); ++k) {
      Status s = lane.One(ops[k]);
      state_[ops[k]] = s.ok() ? kRan : kFailed;
      if (!s.ok()) {
        stop_.store(true, std::memory_order_relaxed);
        return s;
      }
    }
    return {};
  }

  // Contiguous slices (few directories each), one lane and thread each.
  Status RunLanes(const std::vector<size_t>& ops) {
    if (ops.empty()) return {};
    unsigned n = std::max(1u, std::min(std::thread::hardware_concurrency(),
                                       static_cast<unsigned>(ops.size() / kOpsPerLane)));
    std::vector<std::unique_ptr<Lane>> lanes;
    for (unsigned t = 0; t < n; ++t) lanes.push_back(NewLane());
    return base::Sliced(n, ops.size(), [&](unsigned t, size_t lo, size_t hi) {
      return RunOps(*lanes[t], ops, lo, hi);
    });
  }

  const DestLock& lock_;
  const DestPlan& plan_;
  const std::vector<ScannedImage>& images_;
  const MergePolicy& policy_;
  Journal journal_;
  FaultHook hook_;
  std::vector<uint8_t> state_;                          // OpState of each operation
  std::atomic<bool> stop_{false};                       // a lane failed: the others stop
  std::vector<std::pair<dev_t, ino_t>> shared_inodes_;  // sorted: named by several items
};

}  // namespace

base::Result<DestLock> LockDestination(const std::string& dest_path) {
  DestLock lock;
  NSB_ASSIGN_OR_RETURN(lock.dest, OpenRootDir(dest_path));
  auto db = OpenDbDir(lock.dest, true);
  if (!db.ok()) return base::Wrap(db.take_error(), "destination " + dest_path);
  lock.db_dir = std::move(*db);
  if (::flock(lock.db_dir.get(), LOCK_EX) != 0) return ErrnoError("lock " + dest_path);
  NSB_ASSIGN_OR_RETURN(lock.recovered, Recover(lock));
  return lock;
}

base::Result<std::string> Recover(const DestLock& lock) {
  auto text = base::ReadFileAt(lock.db_dir, kJournalName);
  if (!text.ok()) {
    if (text.error().errnum == ENOENT) return std::string();
    return text.take_error();
  }
  NSB_ASSIGN_OR_RETURN(Journal j, ParseJournal(*text, "var/lib/nsbuild/.journal.json"));
  FaultHook hook;
  Resolver r(lock, j, &hook);
  std::string what = (j.delete_db ? "uninstall of " : "merge of ") + j.package;
  if (j.committed) {
    NSB_TRY(r.RollForward());
    return "completed the interrupted " + what;
  }
  NSB_TRY(r.RollBack());
  return "rolled back the interrupted " + what;
}

Status Execute(const DestLock& lock, const DestPlan& plan, const std::vector<ScannedImage>& images,
               const MergePolicy& policy) {
  return Executor(lock, plan, images, policy).Run();
}

}  // namespace nsbuild::merge
