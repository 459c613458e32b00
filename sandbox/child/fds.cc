#include "sandbox/child/fds.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "sandbox/child/sys.h"
#include "sandbox/child/text.h"

namespace nsbuild::sandbox::child {
namespace {

// close_range(2) arrived in Linux 5.9; before it, close each fd up to the
// soft limit.
int CloseRange(unsigned lo, unsigned hi) {
  if (lo > hi) return 0;
  long rc = Sys(SYS_close_range, lo, hi, 0);
  if (rc != -ENOSYS) return static_cast<int>(rc);
  struct rlimit rl;
  unsigned top = hi;
  if (Sys(SYS_prlimit64, 0, RLIMIT_NOFILE, nullptr, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
      rl.rlim_cur - 1 < top) {
    top = static_cast<unsigned>(rl.rlim_cur - 1);
  }
  for (unsigned fd = lo; fd <= top; ++fd) Sys(SYS_close, fd);
  return 0;
}

void SortFds(int* fds, int n) {  // insertion sort: tiny array, no allocation
  for (int i = 1; i < n; ++i) {
    for (int j = i; j > 0 && fds[j - 1] > fds[j]; --j) {
      int t = fds[j];
      fds[j] = fds[j - 1];
      fds[j - 1] = t;
    }
  }
}

}  // namespace

int CloseAllBut(const int* extra, int n_extra, const int* passed, int n_passed) {
  constexpr int kMax = 64;
  int keep[kMax];
  int n = 0;
  for (int i = 0; i < n_extra; ++i) {
    if (extra[i] >= 3 && n < kMax) keep[n++] = extra[i];
  }
  for (int i = 0; i < n_passed; ++i) {
    if (n < kMax) keep[n++] = passed[i];
  }
  SortFds(keep, n);
  return CloseFdsExcept(keep, n);
}

int CloseFdsExcept(const int* keep, int n) {
  unsigned next = 3;
  for (int i = 0; i < n; ++i) {
    if (keep[i] < static_cast<int>(next)) continue;
    if (int rc = CloseRange(next, static_cast<unsigned>(keep[i]) - 1); rc < 0) return rc;
    next = static_cast<unsigned>(keep[i]) + 1;
  }
  return CloseRange(next, ~0u);
}

int CloseEveryFdBut(int keep_a, int keep_b) {
  int lo = keep_a < keep_b ? keep_a : keep_b;
  int hi = keep_a < keep_b ? keep_b : keep_a;
  const int keep[] = {lo, hi};
  unsigned next = 0;
  for (int k : keep) {
    if (k < static_cast<int>(next)) continue;
    if (int rc = CloseRange(next, static_cast<unsigned>(k) - 1); rc < 0) return rc;
    next = static_cast<unsigned>(k) + 1;
  }
  return CloseRange(next, ~0u);
}

int KeepAcrossExec(int fd) {
  long flags = Sys(SYS_fcntl, fd, F_GETFD);
  if (flags < 0) return static_cast<int>(flags);
  return static_cast<int>(Sys(SYS_fcntl, fd, F_SETFD, flags & ~FD_CLOEXEC));
}

int SendFds(int sock, const int* fds, int n) {
  constexpr int kMax = 32;
  if (n < 0 || n > kMax) return -EINVAL;
  char byte = 'f';
  struct iovec iov = {&byte, 1};
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMax)] = {};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = CMSG_SPACE(sizeof(int) * n);
  struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int) * n);
  CopyBytes(CMSG_DATA(c), fds, sizeof(int) * n);
  return AsRc(Sys(SYS_sendmsg, sock, &msg, 0));
}

}  // namespace nsbuild::sandbox::child
