// The distcc daemons a sandbox may reach (network policy "distcc"), in
// distcc's own host-list syntax so a user's DISTCC_HOSTS can be pasted:
// whitespace-separated "ADDR[:PORT][/LIMIT][,OPTION...]". Only plain TCP
// daemons are accepted: ssh ("@host"), "localhost" and distcc's global
// "--options" have no meaning behind a forwarding proxy and are refused.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"

namespace nsbuild::sandbox {

inline constexpr uint16_t kDistccDefaultPort = 3632;
// distcc's own default job limit for a remote host without "/LIMIT".
inline constexpr int kDistccDefaultSlots = 4;
// 127.0.0.2 .. 127.0.0.33: one inside address per daemon.
inline constexpr size_t kMaxDistccHosts = 32;

struct DistccHost {
  std::string host;  // as written (numeric IPv4 or a name resolved when planning)
  uint16_t port = kDistccDefaultPort;
  int slots = 0;        // 0 = not given (distcc's default applies)
  std::string options;  // ",lzo" etc., passed through verbatim
};

// Parses a host list; `where` names the source in errors ("--distcc").
base::Result<std::vector<DistccHost>> ParseDistccHosts(const std::string& text,
                                                       const std::string& where);

// The loopback address the i-th daemon gets inside the sandbox.
std::string DistccInsideAddress(size_t index);

// The same list naming the inside addresses ("127.0.0.2:3632/4,lzo ..."),
// what a build inside must use as DISTCC_HOSTS.
std::string InsideDistccHosts(const std::vector<DistccHost>& hosts);

// Sum of the job limits (distcc's default where none is given).
int DistccRemoteSlots(const std::vector<DistccHost>& hosts);

}  // namespace nsbuild::sandbox
