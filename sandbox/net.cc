#include "sandbox/net.h"

#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "sandbox/raw_syscall.h"

namespace nsbuild::sandbox {

int BringUpLoopback() {
  long s = Sys(SYS_socket, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return static_cast<int>(s);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  memcpy(ifr.ifr_name, "lo", 3);
  long rc = Sys(SYS_ioctl, s, SIOCGIFFLAGS, &ifr);
  if (rc == 0) {
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    rc = Sys(SYS_ioctl, s, SIOCSIFFLAGS, &ifr);
  }
  Sys(SYS_close, s);
  return static_cast<int>(rc);
}

}  // namespace nsbuild::sandbox
