#include "sandbox/mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace nsbuild::sandbox {
namespace {

constexpr const char* kOldRoot = "/oldroot";

// Sets the failure detail without allocating.
void Detail(FailureRecord* rec, const char* a, const char* b = nullptr) {
  size_t n = 0;
  for (const char* s : {a, b}) {
    for (; s && *s && n + 1 < sizeof rec->detail; ++s) rec->detail[n++] = *s;
  }
  rec->detail[n] = '\0';
}

int Fail(FailureRecord* rec, const char* a, const char* b = nullptr) {
  int saved = errno;
  Detail(rec, a, b);
  errno = saved;
  return -1;
}

class Fd {  // minimal owner; the child avoids anything that allocates
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) {
      int saved = errno;
      close(fd_);
      errno = saved;
    }
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void reset(int fd) {
    this->~Fd();
    fd_ = fd;
  }

 private:
  int fd_;
};

// Opens the parent directory of an absolute path, creating missing
// directories, refusing any component that is a symlink. Copies the last
// component to leaf (empty for "/").
int OpenParent(const char* path, char* leaf) {
  char buf[PATH_MAX];
  size_t len = strnlen(path, sizeof buf);
  if (len == 0 || len >= sizeof buf || path[0] != '/') {
    errno = EINVAL;
    return -1;
  }
  memcpy(buf, path, len + 1);
  while (len > 1 && buf[len - 1] == '/') buf[--len] = '\0';
  int dir = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  char* comp = buf + 1;
  for (;;) {
    char* slash = strchr(comp, '/');
    if (!slash) break;
    *slash = '\0';
    if (mkdirat(dir, comp, 0755) != 0 && errno != EEXIST) {
      close(dir);
      return -1;
    }
    int next = openat(dir, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int saved = errno;
    close(dir);
    errno = saved;
    if (next < 0) return -1;
    dir = next;
    comp = slash + 1;
  }
  strcpy(leaf, comp);  // fits: comp is a suffix of buf
  return dir;
}

// Creates (if needed) and opens the mount point: a directory, or an empty
// file when the thing mounted there is not a directory.
int OpenMountPoint(const char* target, bool directory, mode_t mode = 0755) {
  char leaf[PATH_MAX];
  Fd parent(OpenParent(target, leaf));
  if (parent.get() < 0) return -1;
  if (leaf[0] == '\0') return open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (directory) {
    if (mkdirat(parent.get(), leaf, mode) != 0 && errno != EEXIST) return -1;
  } else {
    int f = openat(parent.get(), leaf, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (f >= 0) {
      close(f);
    } else if (errno != EEXIST && errno != EROFS && errno != EACCES) {
      return -1;
    }
  }
  int flags = O_PATH | O_NOFOLLOW | O_CLOEXEC | (directory ? O_DIRECTORY : 0);
  return openat(parent.get(), leaf, flags);
}

int Attach(int tree, int mount_point) {
  return move_mount(tree, "", mount_point, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
}

uint64_t BaseAttrs(const PreparedMount& m) {
  uint64_t a = MOUNT_ATTR_NOSUID;
  if (!m.allow_devices) a |= MOUNT_ATTR_NODEV;
  if (m.noexec) a |= MOUNT_ATTR_NOEXEC;
  return a;
}

// Clones the tree behind an O_PATH fd, sets its flags on every submount,
// attaches it at target.
int BindFd(int source, const char* target, uint64_t attrs) {
  struct stat st;
  if (fstat(source, &st) != 0) return -1;
  Fd point(OpenMountPoint(target, S_ISDIR(st.st_mode)));
  if (point.get() < 0) return -1;
  Fd tree(open_tree(source, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE));
  if (tree.get() < 0) return -1;
  struct mount_attr attr = {};
  attr.attr_set = attrs;
  if (mount_setattr(tree.get(), "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) != 0) {
    return -1;
  }
  return Attach(tree.get(), point.get());
}

// fsopen + options + fsmount: a new filesystem instance as a detached mount.
int NewFs(const char* type, const char* const* opts, uint64_t attrs) {
  Fd fs(fsopen(type, FSOPEN_CLOEXEC));
  if (fs.get() < 0) return -1;
  for (const char* const* o = opts; o && o[0]; o += 2) {
    int rc = o[1] ? fsconfig(fs.get(), FSCONFIG_SET_STRING, o[0], o[1], 0)
                  : fsconfig(fs.get(), FSCONFIG_SET_FLAG, o[0], nullptr, 0);
    if (rc != 0) return -1;
  }
  if (fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0) return -1;
  return fsmount(fs.get(), FSMOUNT_CLOEXEC, static_cast<unsigned>(attrs));
}

int MountNewFs(const char* target, const char* type, const char* const* opts, uint64_t attrs,
               mode_t dir_mode = 0755) {
  Fd point(OpenMountPoint(target, true, dir_mode));
  if (point.get() < 0) return -1;
  Fd mnt(NewFs(type, opts, attrs));
  if (mnt.get() < 0) return -1;
  return Attach(mnt.get(), point.get());
}

int MountTmpfs(const PreparedMount& m, uint64_t extra_attrs = 0) {
  const char* opts[6] = {"mode", m.mode_opt, nullptr, nullptr, nullptr, nullptr};
  if (m.size_opt[0]) {
    opts[2] = "size";
    opts[3] = m.size_opt;
  }
  return MountNewFs(m.target, "tmpfs", opts, BaseAttrs(m) | extra_attrs);
}

// procfs of our pid namespace, with the kernel tunables that a root inside a
// user namespace could still write made read-only (as bubblewrap does).
int MountProc(const PreparedMount& m) {
  uint64_t attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
  if (MountNewFs(m.target, "proc", nullptr, attrs) != 0) return -1;
  Fd proc(open(m.target, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (proc.get() < 0) return -1;
  for (const char* sub : {"sys", "sysrq-trigger", "irq", "bus"}) {
    Fd src(openat(proc.get(), sub, O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (src.get() < 0) continue;  // not every kernel has every entry
    Fd tree(open_tree(src.get(), "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH));
    if (tree.get() < 0) return -1;
    struct mount_attr attr = {};
    attr.attr_set = MOUNT_ATTR_RDONLY | attrs;
    if (mount_setattr(tree.get(), "", AT_EMPTY_PATH, &attr, sizeof attr) != 0) return -1;
    if (Attach(tree.get(), src.get()) != 0) return -1;
  }
  return 0;
}

int MountDevpts(const PreparedMount& m) {
  const char* opts[] = {"newinstance", nullptr, "ptmxmode", "0666", "mode", "0620", nullptr};
  return MountNewFs(m.target, "devpts", opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
}

int MountOverlay(const PreparedMount& m) {
  // userxattr: overlayfs mounted in a user namespace keeps its metadata in
  // user.overlay.* (trusted.* needs host privileges).
  const char* opts[] = {"lowerdir", m.overlay_lower, "upperdir", m.overlay_upper,
                        "workdir",  m.overlay_work,  "userxattr", nullptr, nullptr};
  return MountNewFs(m.target, "overlay", opts, BaseAttrs(m));
}

int MakeSymlink(const PreparedMount& m) {
  char leaf[PATH_MAX];
  Fd parent(OpenParent(m.target, leaf));
  if (parent.get() < 0) return -1;
  if (symlinkat(m.source, parent.get(), leaf) == 0) return 0;
  if (errno != EEXIST) return -1;
  char existing[PATH_MAX];
  ssize_t n = readlinkat(parent.get(), leaf, existing, sizeof existing - 1);
  if (n >= 0) {
    existing[n] = '\0';
    if (strcmp(existing, m.source) == 0) return 0;
  }
  errno = EEXIST;
  return -1;
}

int MakeDir(const PreparedMount& m) {
  Fd dir(OpenMountPoint(m.target, true, m.mode));
  return dir.get() < 0 ? -1 : 0;
}

// Covers a path: a directory with an empty read-only tmpfs, anything else
// with /dev/null mounted nodev (so opening it fails). A missing path has
// nothing to hide.
int Hide(const PreparedMount& m, int devnull) {
  Fd what(open(m.target, O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (what.get() < 0) return errno == ENOENT ? 0 : -1;
  struct stat st;
  if (fstat(what.get(), &st) != 0) return -1;
  if (S_ISDIR(st.st_mode)) {
    PreparedMount empty = m;
    empty.mode_opt = "0";
    empty.size_opt = "4k";
    return MountTmpfs(empty, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOEXEC);
  }
  if (S_ISLNK(st.st_mode)) {
    errno = ELOOP;  // a mount on a symlink would land on its target
    return -1;
  }
  Fd tree(open_tree(devnull, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH));
  if (tree.get() < 0) return -1;
  struct mount_attr attr = {};
  attr.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
  if (mount_setattr(tree.get(), "", AT_EMPTY_PATH, &attr, sizeof attr) != 0) return -1;
  return Attach(tree.get(), what.get());
}

int RemountReadOnly(const char* target) {
  Fd point(open(target, O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (point.get() < 0) return -1;
  struct mount_attr attr = {};
  attr.attr_set = MOUNT_ATTR_RDONLY;
  return mount_setattr(point.get(), "", AT_EMPTY_PATH, &attr, sizeof attr);
}

int ApplyOne(Prepared& p, size_t i) {
  const PreparedMount& m = p.mounts[i];
  switch (m.kind) {
    case MountKind::kBind:
    case MountKind::kRoBind: {
      if (p.source_fds[i] < 0) return 0;  // optional and absent
      uint64_t attrs = BaseAttrs(m) | (m.kind == MountKind::kRoBind ? MOUNT_ATTR_RDONLY : 0);
      return BindFd(p.source_fds[i], m.target, attrs);
    }
    case MountKind::kTmpfs: return MountTmpfs(m);
    case MountKind::kProc: return MountProc(m);
    case MountKind::kDevpts: return MountDevpts(m);
    case MountKind::kSymlink: return MakeSymlink(m);
    case MountKind::kDir: return MakeDir(m);
    case MountKind::kHide: return Hide(m, p.devnull_fd);
    case MountKind::kRemountRo: return RemountReadOnly(m.target);
    case MountKind::kOverlay: return MountOverlay(m);
  }
  errno = EINVAL;
  return -1;
}

bool NeedsSource(MountKind k) { return k == MountKind::kBind || k == MountKind::kRoBind; }

}  // namespace

int MakeMountsPrivate(FailureRecord* rec) {
  // Nothing we mount may propagate back to the host, nor host mounts in.
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return Fail(rec, "/");
  return 0;
}

int OpenMountSources(Prepared& p, FailureRecord* rec) {
  // RESOLVE_NO_SYMLINKS: the planner canonicalised every source, so a
  // symlink here was swapped in after planning and must not redirect us.
  struct open_how how = {};
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  for (size_t i = 0; i < p.mounts.size(); ++i) {
    p.source_fds[i] = -1;
    if (!NeedsSource(p.mounts[i].kind)) continue;
    long fd = syscall(SYS_openat2, AT_FDCWD, p.mounts[i].source, &how, sizeof how);
    if (fd < 0 && errno == ENOENT && p.mounts[i].optional) continue;
    if (fd < 0) return Fail(rec, p.mounts[i].source);
    p.source_fds[i] = static_cast<int>(fd);
  }
  p.devnull_fd = open("/dev/null", O_PATH | O_CLOEXEC);
  if (p.devnull_fd < 0) return Fail(rec, "/dev/null");
  return 0;
}

int EnterNewRoot(FailureRecord* rec) {
  if (mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=16m") != 0) {
    return Fail(rec, "tmpfs on /tmp");
  }
  if (chdir("/tmp") != 0) return Fail(rec, "/tmp");
  if (mkdir("oldroot", 0700) != 0) return Fail(rec, "/tmp/oldroot");
  if (syscall(SYS_pivot_root, ".", "oldroot") != 0) return Fail(rec, "/tmp");
  if (chdir("/") != 0) return Fail(rec, "/");
  return 0;
}

int ApplyMounts(Prepared& p, FailureRecord* rec) {
  for (size_t i = 0; i < p.mounts.size(); ++i) {
    if (ApplyOne(p, i) != 0) return Fail(rec, p.mounts[i].target);
  }
  return 0;
}

int DetachOldRoot(Prepared& p, FailureRecord* rec) {
  // Source fds point into the host tree: close them before anything runs.
  for (int& fd : p.source_fds) {
    if (fd >= 0) close(fd);
    fd = -1;
  }
  if (p.devnull_fd >= 0) close(p.devnull_fd);
  p.devnull_fd = -1;
  if (umount2(kOldRoot, MNT_DETACH) != 0) return Fail(rec, kOldRoot);
  if (rmdir(kOldRoot) != 0) return Fail(rec, kOldRoot);
  // The root tmpfs only holds mount points; nothing may write there.
  if (RemountReadOnly("/") != 0) return Fail(rec, "/ (read-only)");
  return 0;
}

}  // namespace nsbuild::sandbox
