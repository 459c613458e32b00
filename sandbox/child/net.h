// Network: a private network namespace whose only interface is loopback (or
// nothing at all). Child side: PID 1 runs these in the new network namespace.
#pragma once

#include <netinet/in.h>

namespace nsbuild::sandbox::child {

// Brings lo up in the current network namespace; 0 or -errno.
int BringUpLoopback();

// Network "distcc": opens a listening TCP socket on each of addrs[0..n) in
// the current (the sandbox's) network namespace, sends them all in one
// SCM_RIGHTS message over `sock` to nsbuild, and closes its own copies and
// `sock`. Holding the addresses also keeps anything inside from binding
// them. 0 or -errno.
int OpenAndSendListeners(const sockaddr_in* addrs, int n, int sock);

}  // namespace nsbuild::sandbox::child
