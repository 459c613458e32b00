#include "sandbox/capture_fs.h"

#include <fcntl.h>
#include <linux/mount.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "base/fd_passing.h"
#include "base/subprocess.h"

namespace nsbuild::sandbox {
namespace {

using base::UniqueFd;

// fsopen + size + fsmount. Returns the mount fd, or -errno. Allocation-free:
// it also runs in the helper child, forked from a process with threads.
int MountTmpfs(const char* size, const char* inodes) {
  int fs = static_cast<int>(syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC));
  if (fs < 0) return -errno;
  const char* opts[][2] = {{"size", size}, {"nr_inodes", inodes}, {"mode", "0700"}};
  for (const auto& o : opts) {
    if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, o[0], o[1], 0) != 0) {
      int e = errno;
      close(fs);
      return -e;
    }
  }
  if (syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0) {
    int e = errno;
    close(fs);
    return -e;
  }
  int mnt = static_cast<int>(syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC,
                                     MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC));
  int e = errno;
  close(fs);
  return mnt < 0 ? -e : mnt;
}

bool WriteProcFile(const char* path, const char* text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = write(fd, text, strlen(text)) == static_cast<ssize_t>(strlen(text));
  close(fd);
  return ok;
}

// The helper child: its own user namespace (mapping only our ids, so the
// files we create on the tmpfs are ours) and mount namespace, the tmpfs,
// the fd sent back. Exit status: 0, or the errno of what failed.
int HelperChild(int sock, const char* uid_map, const char* gid_map, const char* size,
                const char* inodes) {
  if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) return errno;
  if (!WriteProcFile("/proc/self/setgroups", "deny") ||
      !WriteProcFile("/proc/self/uid_map", uid_map) ||
      !WriteProcFile("/proc/self/gid_map", gid_map)) {
    return errno ? errno : EPERM;
  }
  int mnt = MountTmpfs(size, inodes);
  if (mnt < 0) return -mnt;
  int err = base::SendFds(sock, std::span<const int>(&mnt, 1));
  close(mnt);
  return err;
}

base::Result<UniqueFd> ReceiveFd(int sock) {
  auto got = base::ReceiveFds(sock, 1);
  if (!got.ok()) return base::Wrap(got.take_error(), "receive the capture tmpfs");
  if (got->fds.size() != 1 || got->truncated) {
    return base::PlainError("the capture helper sent no tmpfs");
  }
  return std::move(got->fds.front());
}

base::Result<UniqueFd> MakeInHelper(const char* size, const char* inodes) {
  char uid_map[64], gid_map[64];
  std::snprintf(uid_map, sizeof uid_map, "%u %u 1\n", geteuid(), geteuid());
  std::snprintf(gid_map, sizeof gid_map, "%u %u 1\n", getegid(), getegid());
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
    return base::ErrnoError("socketpair");
  UniqueFd ours(sv[0]), theirs(sv[1]);
  auto helper = base::Subprocess::Fork(
      [&] { return HelperChild(theirs.get(), uid_map, gid_map, size, inodes); });
  if (!helper.ok()) return base::Wrap(helper.take_error(), "fork the capture helper");
  theirs.reset();
  auto fd = ReceiveFd(ours.get());
  auto status = helper->Wait();
  if (fd.ok()) return fd;
  int code = status.ok() && WIFEXITED(*status) ? WEXITSTATUS(*status) : 0;
  return base::Error{code, "make the capture tmpfs in a user namespace"};
}

}  // namespace

base::Result<UniqueFd> MakeCaptureFs(uint64_t size_bytes) {
  std::string size = std::to_string(size_bytes), inodes = std::to_string(kCaptureMaxInodes);
  if (geteuid() == 0) {
    int mnt = MountTmpfs(size.c_str(), inodes.c_str());
    if (mnt < 0) return base::Error{-mnt, "make the capture tmpfs (fsopen/fsmount)"};
    return UniqueFd(mnt);
  }
  return MakeInHelper(size.c_str(), inodes.c_str());
}

}  // namespace nsbuild::sandbox
