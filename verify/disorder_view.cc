#include "verify/disorder_view.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>
#include <vector>

#include "base/dir_fd.h"
#include "base/fs.h"
#include "base/subprocess.h"
#include "verify/find_program.h"

namespace nsbuild::verify {
namespace {

std::string FusermountPath() {
  std::string p = FindProgram("fusermount3");
  return p.empty() ? FindProgram("fusermount") : p;
}

// Runs argv to its end with stdin from /dev/null and stdout/stderr to
// `log_fd` (or discarded). Its own session: a Ctrl-C meant for nsbuild must
// not reach disorderfs, whose lifetime the DisorderView owns.
base::Result<int> RunTool(const std::vector<std::string>& argv, int log_fd) {
  base::SpawnOptions opts;
  opts.argv = argv;
  opts.new_session = true;
  int out = log_fd >= 0 ? log_fd : base::kDevNull;
  opts.fds = {{0, base::kDevNull}, {1, out}, {2, out}};
  NSB_ASSIGN_OR_RETURN(base::Subprocess tool, base::Subprocess::Spawn(opts));
  NSB_ASSIGN_OR_RETURN(int status, tool.Wait());
  return base::ExitCodeOf(status);
}

// The filesystem type of mount `id` ("" if not found), from mountinfo:
// "ID PARENT MAJ:MIN ROOT POINT OPTS [TAGS] - TYPE SOURCE SUPER".
std::string MountType(uint64_t id) {
  auto info = base::ReadFile("/proc/self/mountinfo");
  if (!info.ok()) return "";
  std::istringstream in(*info);
  std::string line;
  std::string want = std::to_string(id) + " ";
  while (std::getline(in, line)) {
    if (line.rfind(want, 0) != 0) continue;
    auto dash = line.find(" - ");
    if (dash == std::string::npos) return "";
    std::istringstream rest(line.substr(dash + 3));
    std::string type;
    rest >> type;
    return type;
  }
  return "";
}

// What sits at `name` in `dir_fd`, opened without following a symlink: the
// mount's root if something is mounted on that directory (0 otherwise).
uint64_t MountedAt(int dir_fd, const std::string& name, base::UniqueFd* out) {
  base::UniqueFd fd(::openat(dir_fd, name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return 0;  // missing, or a symlink (never followed) or a file
  auto here = base::MountIdOf(fd);
  auto parent = base::MountIdOf(base::BorrowedFd(dir_fd));
  if (!here.ok() || !parent.ok() || *here == *parent) return 0;
  if (out) *out = std::move(fd);
  return *here;
}

void Unmount(const base::UniqueFd& root, const std::string& shown) {
  if (::geteuid() == 0) {
    // Through the fd: exactly the mount that was checked, wherever a name
    // now points.
    if (::umount2(base::ProcFdPath(root.get()).c_str(), MNT_DETACH) != 0 && errno != EINVAL &&
        errno != ENOENT) {
      spdlog::warn("umount {}: {}", shown, std::strerror(errno));
    }
    return;
  }
  // A user may only unmount through the setuid helper, which itself checks
  // that the mount is that user's.
  auto rc = RunTool({FusermountPath(), "-u", "-z", shown}, -1);
  if (!rc.ok() || *rc != 0) spdlog::warn("fusermount -u {} failed", shown);
}

}  // namespace

std::string DisorderView::Unavailable() {
  if (FindProgram("disorderfs").empty())
    return "disorderfs is not installed (Debian package disorderfs)";
  if (::access("/dev/fuse", F_OK) != 0) return "no /dev/fuse here (FUSE is not available)";
  if (::geteuid() == 0) return "";
  // libfuse opens /dev/fuse itself before falling back to fusermount, so an
  // unprivileged caller needs both.
  if (::access("/dev/fuse", R_OK | W_OK) != 0) {
    struct stat st = {};
    ::stat("/dev/fuse", &st);
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", st.st_mode & 07777);
    return std::string("disorderfs needs /dev/fuse, which this user cannot open (mode ") + mode +
           " here); run as root";
  }
  if (FusermountPath().empty()) return "an unprivileged FUSE mount needs fusermount, not installed";
  return "";
}

void DisorderView::DetachStale(int dir_fd, const std::string& dir_path, const std::string& name) {
  base::UniqueFd root;
  uint64_t id = MountedAt(dir_fd, name, &root);
  if (id == 0) return;
  std::string shown = dir_path + "/" + name;
  std::string type = MountType(id);
  if (type.rfind("fuse", 0) != 0) {
    spdlog::warn("{}: a {} mount nsbuild did not make; left alone", shown,
                 type.empty() ? "?" : type);
    return;
  }
  Unmount(root, shown);
}

base::Result<std::unique_ptr<DisorderView>> DisorderView::Mount(const std::string& source,
                                                                int dir_fd,
                                                                const std::string& dir_path,
                                                                const std::string& name,
                                                                int log_fd) {
  if (std::string why = Unavailable(); !why.empty())
    return base::PlainError("fileordering: " + why);
  std::string mountpoint = dir_path + "/" + name;
  // Made right now, in the work dir only root (or the caller) can write: no
  // one can swap it for a symlink before disorderfs mounts on it.
  if (::mkdirat(dir_fd, name.c_str(), 0755) != 0) return base::ErrnoError("mkdir " + mountpoint);
  base::UniqueFd parent(::fcntl(dir_fd, F_DUPFD_CLOEXEC, 3));
  if (!parent) return base::ErrnoError("dup");
  // Root's mount must admit the sandbox's mapped ids (allow_other); a user's
  // sandboxes run as that same user, which FUSE admits anyway.
  std::vector<std::string> argv = {FindProgram("disorderfs"), "--quiet", "--multi-user=no",
                                   "--reverse-dirents=yes", "--shuffle-dirents=no"};
  if (::geteuid() == 0) argv.insert(argv.end(), {"-o", "allow_other"});
  argv.insert(argv.end(), {source, mountpoint});
  NSB_ASSIGN_OR_RETURN(int rc, RunTool(argv, log_fd));
  // disorderfs daemonises once mounted, so the mount exists when it returns.
  base::UniqueFd root;
  uint64_t id = MountedAt(parent.get(), name, &root);
  std::string type = id ? MountType(id) : "";
  if (id != 0 && type.rfind("fuse", 0) != 0) {
    // Something else is mounted there: not ours to use or to unmount.
    return base::PlainError("disorderfs " + mountpoint + ": a " + type +
                            " mount is there, not disorderfs");
  }
  if (rc != 0 || id == 0) {
    if (id != 0) Unmount(root, mountpoint);
    ::unlinkat(parent.get(), name.c_str(), AT_REMOVEDIR);
    return base::PlainError("disorderfs " + source + " " + mountpoint + " failed (exit status " +
                            std::to_string(rc) + ")");
  }
  return std::unique_ptr<DisorderView>(
      new DisorderView(mountpoint, std::move(parent), name, std::move(root)));
}

DisorderView::~DisorderView() {
  Unmount(root_, mountpoint_);
  root_.reset();
  ::unlinkat(parent_.get(), name_.c_str(), AT_REMOVEDIR);
}

}  // namespace nsbuild::verify
