#include "sandbox/fds.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace nsbuild::sandbox {
namespace {

// close_range(2) arrived in Linux 5.9; before it, close each fd up to the
// soft limit. Both are async-signal-safe.
int CloseRange(unsigned lo, unsigned hi) {
  if (lo > hi) return 0;
  if (syscall(SYS_close_range, lo, hi, 0) == 0) return 0;
  if (errno != ENOSYS) return -1;
  struct rlimit rl;
  unsigned top = hi;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur - 1 < top) {
    top = static_cast<unsigned>(rl.rlim_cur - 1);
  }
  for (unsigned fd = lo; fd <= top; ++fd) close(static_cast<int>(fd));
  return 0;
}

}  // namespace

int CloseFdsExcept(const int* keep, int n) {
  unsigned next = 3;
  for (int i = 0; i < n; ++i) {
    if (keep[i] < static_cast<int>(next)) continue;
    if (CloseRange(next, static_cast<unsigned>(keep[i]) - 1) != 0) return -1;
    next = static_cast<unsigned>(keep[i]) + 1;
  }
  return CloseRange(next, ~0u);
}

int KeepAcrossExec(int fd) {
  int flags = fcntl(fd, F_GETFD);
  if (flags < 0) return -1;
  return fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC);
}

}  // namespace nsbuild::sandbox
