#include "builder/disorder_view.h"

#include <fcntl.h>
#include <spawn.h>
#include <spdlog/spdlog.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "builder/status.h"
#include "builder/variation.h"

extern char** environ;

namespace nsbuild::builder {
namespace {

std::string FusermountPath() {
  std::string p = FindProgram("fusermount3");
  return p.empty() ? FindProgram("fusermount") : p;
}

// Runs argv to its end with stdin from /dev/null and stdout/stderr appended
// to `log` (or discarded). Its own session: a Ctrl-C meant for nsbuild must
// not reach disorderfs, whose lifetime the DisorderView owns.
base::Result<int> RunTool(const std::vector<std::string>& argv, const std::string& log) {
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&fa);
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
  const char* out = log.empty() ? "/dev/null" : log.c_str();
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int err = ::posix_spawn(&pid, argv[0].c_str(), &fa, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (err != 0) return base::Error{err, "spawn " + argv[0]};
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return base::ErrnoError("waitpid " + argv[0]);
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// A dead FUSE daemon's mount answers ENOTCONN: still mounted.
bool IsMountPoint(const std::string& path) {
  struct stat self, parent;
  if (::stat(path.c_str(), &self) != 0) return errno == ENOTCONN;
  if (::stat((path + "/..").c_str(), &parent) != 0) return false;
  return self.st_dev != parent.st_dev;
}

}  // namespace

std::string DisorderView::Unavailable() {
  if (FindProgram("disorderfs").empty()) return "disorderfs is not installed (Debian package disorderfs)";
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

void DisorderView::Detach(const std::string& mountpoint) {
  if (!IsMountPoint(mountpoint)) return;
  if (::geteuid() == 0) {
    if (::umount2(mountpoint.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT) {
      spdlog::warn("umount {}: {}", mountpoint, std::strerror(errno));
    }
    return;
  }
  // A user may only unmount through the setuid helper.
  auto rc = RunTool({FusermountPath(), "-u", "-z", mountpoint}, "");
  if (!rc.ok() || *rc != 0) spdlog::warn("fusermount -u {} failed", mountpoint);
}

base::Result<std::unique_ptr<DisorderView>> DisorderView::Mount(const std::string& source,
                                                                const std::string& mountpoint,
                                                                const std::string& log_path) {
  if (std::string why = Unavailable(); !why.empty()) return base::PlainError("fileordering: " + why);
  Detach(mountpoint);
  if (::mkdir(mountpoint.c_str(), 0755) != 0 && errno != EEXIST) {
    return base::ErrnoError("mkdir " + mountpoint);
  }
  // Root's mount must admit the sandbox's mapped ids (allow_other); a user's
  // sandboxes run as that same user, which FUSE admits anyway.
  std::vector<std::string> argv = {FindProgram("disorderfs"), "--quiet", "--multi-user=no",
                                   "--reverse-dirents=yes", "--shuffle-dirents=no"};
  if (::geteuid() == 0) argv.insert(argv.end(), {"-o", "allow_other"});
  argv.insert(argv.end(), {source, mountpoint});
  NSB_ASSIGN_OR_RETURN(int rc, RunTool(argv, log_path));
  // disorderfs daemonises once mounted, so the mount exists when it returns.
  std::unique_ptr<DisorderView> view(new DisorderView(mountpoint));
  if (rc != 0 || !IsMountPoint(mountpoint)) {
    return base::PlainError("disorderfs " + source + " " + mountpoint + " failed (exit status " +
                            std::to_string(rc) + ")\n" + LogTail(log_path, 5));
  }
  return view;
}

DisorderView::~DisorderView() {
  Detach(mountpoint_);
  ::rmdir(mountpoint_.c_str());
}

}  // namespace nsbuild::builder
