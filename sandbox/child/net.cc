#include "sandbox/child/net.h"

#include <errno.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "sandbox/child/fds.h"
#include "sandbox/child/sys.h"
#include "sandbox/child/text.h"

namespace nsbuild::sandbox::child {

int BringUpLoopback() {
  long s = Sys(SYS_socket, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return static_cast<int>(s);
  struct ifreq ifr;
  ZeroBytes(&ifr, sizeof ifr);
  CopyBytes(ifr.ifr_name, "lo", 3);
  long rc = Sys(SYS_ioctl, s, SIOCGIFFLAGS, &ifr);
  if (rc == 0) {
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    rc = Sys(SYS_ioctl, s, SIOCSIFFLAGS, &ifr);
  }
  Sys(SYS_close, s);
  return static_cast<int>(rc);
}

namespace {

constexpr int kMaxListeners = 32;
constexpr int kBacklog = 128;

int Listen(const sockaddr_in& addr, int* fd) {
  long s = Sys(SYS_socket, AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return static_cast<int>(s);
  *fd = static_cast<int>(s);
  long rc = Sys(SYS_bind, s, &addr, sizeof addr);
  if (rc == 0) rc = Sys(SYS_listen, s, kBacklog);
  return static_cast<int>(rc);
}

}  // namespace

int OpenAndSendListeners(const sockaddr_in* addrs, int n, int sock) {
  if (n > kMaxListeners) return -E2BIG;
  int fds[kMaxListeners];
  int opened = 0;
  int rc = 0;
  for (int i = 0; i < n && rc == 0; ++i) {
    int fd = -1;
    rc = Listen(addrs[i], &fd);
    if (fd >= 0) fds[opened++] = fd;
  }
  if (rc == 0 && n > 0) rc = SendFds(sock, fds, n);
  for (int i = 0; i < opened; ++i) Sys(SYS_close, fds[i]);
  Sys(SYS_close, sock);
  return rc;
}

}  // namespace nsbuild::sandbox::child
