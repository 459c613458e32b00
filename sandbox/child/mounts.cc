#include "sandbox/child/mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "sandbox/child/sys.h"
#include "sandbox/child/text.h"

namespace nsbuild::sandbox::child {
namespace {

constexpr const char* kOldRoot = "/oldroot";

class Fd {  // minimal owner; the child avoids anything that allocates
 public:
  explicit Fd(long fd = -1) : fd_(static_cast<int>(fd)) {}
  ~Fd() {
    if (fd_ >= 0) Sys(SYS_close, fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  bool ok() const { return fd_ >= 0; }
  int error() const { return fd_; }  // -errno when !ok()

 private:
  int fd_;
};

long OpenAt(int dir, const char* path, int flags, mode_t mode = 0) {
  return Sys(SYS_openat, dir, path, flags | O_CLOEXEC, mode);
}

// Opens directory comp in dir (never through a symlink), made first when
// missing. Most components exist (/dev for each device), so the open comes
// first and mkdir only on ENOENT: one syscall per component, not two.
long OpenOrMakeDir(int dir, const char* comp) {
  long fd = OpenAt(dir, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW);
  if (fd != -ENOENT) return fd;
  long rc = Sys(SYS_mkdirat, dir, comp, 0755);
  if (rc < 0 && rc != -EEXIST) return rc;
  return OpenAt(dir, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW);
}

// Opens the parent directory of an absolute path, creating missing
// directories, refusing any component that is a symlink. Copies the last
// component to leaf (empty for "/"). Returns the fd or -errno.
long OpenParent(const char* path, char* leaf) {
  char buf[PATH_MAX];
  size_t len = LengthAtMost(path, sizeof buf);
  if (len == 0 || len >= sizeof buf || path[0] != '/') return -EINVAL;
  CopyBytes(buf, path, len + 1);
  while (len > 1 && buf[len - 1] == '/') buf[--len] = '\0';
  long dir = OpenAt(AT_FDCWD, "/", O_PATH | O_DIRECTORY);
  if (dir < 0) return dir;
  char* comp = buf + 1;
  for (char* slash; *(slash = FindOrEnd(comp, '/')) == '/'; comp = slash + 1) {
    *slash = '\0';
    long next = OpenOrMakeDir(dir, comp);
    Sys(SYS_close, dir);
    if (next < 0) return next;
    dir = next;
  }
  CopyBytes(leaf, comp, Length(comp) + 1);  // fits: comp is a suffix of buf
  return dir;
}

// Creates (if needed) and opens the mount point: a directory, or an empty
// file when the thing mounted there is not a directory.
long OpenMountPoint(const char* target, bool directory, mode_t mode = 0755) {
  char leaf[PATH_MAX];
  Fd parent(OpenParent(target, leaf));
  if (!parent.ok()) return parent.error();
  if (leaf[0] == '\0') return OpenAt(AT_FDCWD, "/", O_PATH | O_DIRECTORY);
  if (directory) {
    long rc = Sys(SYS_mkdirat, parent.get(), leaf, mode);
    if (rc < 0 && rc != -EEXIST) return rc;
  } else {
    long f = OpenAt(parent.get(), leaf, O_CREAT | O_WRONLY | O_NOFOLLOW, 0644);
    if (f >= 0) {
      Sys(SYS_close, f);
    } else if (f != -EEXIST && f != -EROFS && f != -EACCES) {
      return f;
    }
  }
  return OpenAt(parent.get(), leaf, O_PATH | O_NOFOLLOW | (directory ? O_DIRECTORY : 0));
}

int Attach(int tree, int mount_point) {
  return static_cast<int>(Sys(SYS_move_mount, tree, "", mount_point, "",
                              MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH));
}

int SetAttr(int tree, uint64_t attrs, bool recursive) {
  struct mount_attr attr = {};
  attr.attr_set = attrs;
  unsigned flags = AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0);
  return static_cast<int>(Sys(SYS_mount_setattr, tree, "", flags, &attr, sizeof attr));
}

long CloneTree(int source, bool recursive) {
  unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH;
  return Sys(SYS_open_tree, source, "", flags | (recursive ? AT_RECURSIVE : 0));
}

uint64_t BaseAttrs(const Mount& m) {
  uint64_t a = MOUNT_ATTR_NOSUID;
  if (!m.allow_devices) a |= MOUNT_ATTR_NODEV;
  if (m.noexec) a |= MOUNT_ATTR_NOEXEC;
  return a;
}

// Clones the tree behind an O_PATH fd, sets its flags on every submount,
// attaches it at target.
int BindFd(int source, const char* target, uint64_t attrs) {
  struct stat st;
  if (long rc = Sys(SYS_fstat, source, &st); rc < 0) return static_cast<int>(rc);
  Fd point(OpenMountPoint(target, S_ISDIR(st.st_mode)));
  if (!point.ok()) return point.error();
  Fd tree(CloneTree(source, true));
  if (!tree.ok()) return tree.error();
  if (int rc = SetAttr(tree.get(), attrs, true); rc < 0) return rc;
  return Attach(tree.get(), point.get());
}

// fsopen + options + fsmount: a new filesystem instance as a detached mount.
long NewFs(const char* type, const char* const* opts, uint64_t attrs) {
  Fd fs(Sys(SYS_fsopen, type, FSOPEN_CLOEXEC));
  if (!fs.ok()) return fs.error();
  for (const char* const* o = opts; o && o[0]; o += 2) {
    long rc = o[1] ? Sys(SYS_fsconfig, fs.get(), FSCONFIG_SET_STRING, o[0], o[1], 0)
                   : Sys(SYS_fsconfig, fs.get(), FSCONFIG_SET_FLAG, o[0], nullptr, 0);
    if (rc < 0) return rc;
  }
  if (long rc = Sys(SYS_fsconfig, fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0); rc < 0) {
    return rc;
  }
  return Sys(SYS_fsmount, fs.get(), FSMOUNT_CLOEXEC, attrs);
}

int MountNewFs(const char* target, const char* type, const char* const* opts, uint64_t attrs,
               mode_t dir_mode = 0755) {
  Fd point(OpenMountPoint(target, true, dir_mode));
  if (!point.ok()) return point.error();
  Fd mnt(NewFs(type, opts, attrs));
  if (!mnt.ok()) return mnt.error();
  return Attach(mnt.get(), point.get());
}

int MountTmpfs(const Mount& m, uint64_t extra_attrs = 0) {
  const char* opts[6] = {"mode", m.mode_opt, nullptr, nullptr, nullptr, nullptr};
  if (m.size_opt[0]) {
    opts[2] = "size";
    opts[3] = m.size_opt;
  }
  return MountNewFs(m.target, "tmpfs", opts, BaseAttrs(m) | extra_attrs);
}

// procfs of our pid namespace, with the kernel tunables that a root inside a
// user namespace could still write made read-only (as bubblewrap does).
int MountProc(const Mount& m) {
  uint64_t attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
  if (int rc = MountNewFs(m.target, "proc", nullptr, attrs); rc < 0) return rc;
  Fd proc(OpenAt(AT_FDCWD, m.target, O_PATH | O_DIRECTORY | O_NOFOLLOW));
  if (!proc.ok()) return proc.error();
  static constexpr const char* kTunables[] = {"sys", "sysrq-trigger", "irq", "bus"};
  for (const char* sub : kTunables) {
    Fd src(OpenAt(proc.get(), sub, O_PATH | O_NOFOLLOW));
    if (!src.ok()) continue;  // not every kernel has every entry
    Fd tree(CloneTree(src.get(), false));
    if (!tree.ok()) return tree.error();
    if (int rc = SetAttr(tree.get(), MOUNT_ATTR_RDONLY | attrs, false); rc < 0) return rc;
    if (int rc = Attach(tree.get(), src.get()); rc < 0) return rc;
  }
  return 0;
}

int MountDevpts(const Mount& m) {
  const char* opts[] = {"newinstance", nullptr, "ptmxmode", "0666", "mode", "0620", nullptr};
  return MountNewFs(m.target, "devpts", opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
}

int MountOverlay(const Mount& m) {
  // userxattr: overlayfs mounted in a user namespace keeps its metadata in
  // user.overlay.* (trusted.* needs host privileges).
  const char* opts[] = {"lowerdir",     m.overlay_lower, "upperdir", m.overlay_upper, "workdir",
                        m.overlay_work, "userxattr",     nullptr,    nullptr};
  return MountNewFs(m.target, "overlay", opts, BaseAttrs(m));
}

int MakeSymlink(const Mount& m) {
  char leaf[PATH_MAX];
  Fd parent(OpenParent(m.target, leaf));
  if (!parent.ok()) return parent.error();
  long rc = Sys(SYS_symlinkat, m.source, parent.get(), leaf);
  if (rc != -EEXIST) return static_cast<int>(rc);
  char existing[PATH_MAX];
  long n = Sys(SYS_readlinkat, parent.get(), leaf, existing, sizeof existing - 1);
  if (n >= 0) {
    existing[n] = '\0';
    if (Equal(existing, m.source)) return 0;
  }
  return -EEXIST;
}

int MakeDir(const Mount& m) {
  Fd dir(OpenMountPoint(m.target, true, m.mode));
  return dir.ok() ? 0 : dir.error();
}

// Covers a path: a directory with an empty read-only tmpfs, anything else
// with /dev/null mounted nodev (so opening it fails). A missing path has
// nothing to hide.
int Hide(const Mount& m, int devnull) {
  Fd what(OpenAt(AT_FDCWD, m.target, O_PATH | O_NOFOLLOW));
  if (!what.ok()) return what.error() == -ENOENT ? 0 : what.error();
  struct stat st;
  if (long rc = Sys(SYS_fstat, what.get(), &st); rc < 0) return static_cast<int>(rc);
  if (S_ISDIR(st.st_mode)) {
    Mount empty = m;
    empty.mode_opt = "0";
    empty.size_opt = "4k";
    return MountTmpfs(empty, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOEXEC);
  }
  if (S_ISLNK(st.st_mode)) return -ELOOP;  // a mount there would land on its target
  Fd tree(CloneTree(devnull, false));
  if (!tree.ok()) return tree.error();
  uint64_t attrs = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
  if (int rc = SetAttr(tree.get(), attrs, false); rc < 0) return rc;
  return Attach(tree.get(), what.get());
}

int RemountReadOnly(const char* target) {
  Fd point(OpenAt(AT_FDCWD, target, O_PATH | O_NOFOLLOW));
  if (!point.ok()) return point.error();
  return SetAttr(point.get(), MOUNT_ATTR_RDONLY, false);
}

int ApplyOne(const Plan& p, int i, int devnull) {
  const Mount& m = p.mounts[i];
  switch (m.kind) {
    case MountKind::kBind:
    case MountKind::kRoBind: {
      if (p.source_fds[i] < 0) return 0;  // optional and absent
      uint64_t attrs = BaseAttrs(m) | (m.kind == MountKind::kRoBind ? MOUNT_ATTR_RDONLY : 0);
      return BindFd(p.source_fds[i], m.target, attrs);
    }
    case MountKind::kTmpfs:
      return MountTmpfs(m);
    case MountKind::kProc:
      return MountProc(m);
    case MountKind::kDevpts:
      return MountDevpts(m);
    case MountKind::kSymlink:
      return MakeSymlink(m);
    case MountKind::kDir:
      return MakeDir(m);
    case MountKind::kHide:
      return Hide(m, devnull);
    case MountKind::kRemountRo:
      return RemountReadOnly(m.target);
    case MountKind::kOverlay:
      return MountOverlay(m);
  }
  return -EINVAL;
}

bool NeedsSource(MountKind k) { return k == MountKind::kBind || k == MountKind::kRoBind; }

}  // namespace

int MakeMountsPrivate(FailureRecord* rec) {
  // Nothing we mount may propagate back to the host, nor host mounts in.
  long rc = Sys(SYS_mount, nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr);
  return rc < 0 ? Fail(rec, static_cast<int>(rc), "/") : 0;
}

int OpenMountSources(const Plan& p, int* devnull, FailureRecord* rec) {
  // RESOLVE_NO_SYMLINKS: the planner canonicalised every source, so a
  // symlink here was swapped in after planning and must not redirect us.
  struct open_how how = {};
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  for (int i = 0; i < p.mount_count; ++i) {
    p.source_fds[i] = -1;
    if (!NeedsSource(p.mounts[i].kind)) continue;
    long fd = Sys(SYS_openat2, AT_FDCWD, p.mounts[i].source, &how, sizeof how);
    if (fd == -ENOENT && p.mounts[i].optional) continue;
    if (fd < 0) return Fail(rec, static_cast<int>(fd), p.mounts[i].source);
    p.source_fds[i] = static_cast<int>(fd);
  }
  long fd = OpenAt(AT_FDCWD, "/dev/null", O_PATH);
  if (fd < 0) return Fail(rec, static_cast<int>(fd), "/dev/null");
  *devnull = static_cast<int>(fd);
  return 0;
}

int MountNewRoot(FailureRecord* rec) {
  long rc = Sys(SYS_mount, "tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=16m");
  if (rc < 0) return Fail(rec, static_cast<int>(rc), "tmpfs on /tmp");
  if ((rc = Sys(SYS_chdir, "/tmp")) < 0) return Fail(rec, static_cast<int>(rc), "/tmp");
  if ((rc = Sys(SYS_mkdirat, AT_FDCWD, "oldroot", 0700)) < 0) {
    return Fail(rec, static_cast<int>(rc), "/tmp/oldroot");
  }
  return 0;
}

int PivotIntoNewRoot(FailureRecord* rec) {
  long rc = Sys(SYS_pivot_root, ".", "oldroot");
  if (rc < 0) return Fail(rec, static_cast<int>(rc), "/tmp");
  if ((rc = Sys(SYS_chdir, "/")) < 0) return Fail(rec, static_cast<int>(rc), "/");
  return 0;
}

int ApplyMounts(const Plan& p, int devnull, FailureRecord* rec) {
  for (int i = 0; i < p.mount_count; ++i) {
    if (int rc = ApplyOne(p, i, devnull); rc < 0) return Fail(rec, rc, p.mounts[i].target);
  }
  return 0;
}

int DetachOldRoot(const Plan& p, int* devnull, FailureRecord* rec) {
  // Source fds point into the host tree: close them before anything runs.
  for (int i = 0; i < p.mount_count; ++i) {
    if (p.source_fds[i] >= 0) Sys(SYS_close, p.source_fds[i]);
    p.source_fds[i] = -1;
  }
  if (*devnull >= 0) Sys(SYS_close, *devnull);
  *devnull = -1;
  long rc = Sys(SYS_umount2, kOldRoot, MNT_DETACH);
  if (rc < 0) return Fail(rec, static_cast<int>(rc), kOldRoot);
  if ((rc = Sys(SYS_unlinkat, AT_FDCWD, kOldRoot, AT_REMOVEDIR)) < 0) {
    return Fail(rec, static_cast<int>(rc), kOldRoot);
  }
  // The root tmpfs only holds mount points; nothing may write there.
  if (int r = RemountReadOnly("/"); r < 0) return Fail(rec, r, "/ (read-only)");
  return 0;
}

}  // namespace nsbuild::sandbox::child
