#include "sandbox/landlock.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <cstddef>
#include <set>

#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#define SYS_landlock_add_rule 445
#endif

namespace nsbuild::sandbox {
namespace {

// The uapi structures as of ABI 6, spelled out here because Debian 12's
// <linux/landlock.h> (Linux 6.1) predates the network and scope fields.
// The layout is kernel ABI and only ever grows at the end.
struct RulesetAttr {
  uint64_t handled_access_fs;
  uint64_t handled_access_net;  // ABI >= 4
  uint64_t scoped;              // ABI >= 6
};
struct NetPortAttr {
  uint64_t allowed_access;
  uint64_t port;
} __attribute__((packed));

constexpr uint32_t kCreateRulesetVersion = 1U << 0;
constexpr int kRuleNetPort = 2;
constexpr uint64_t kAccessNetBindTcp = 1ULL << 0;
constexpr uint64_t kAccessNetConnectTcp = 1ULL << 1;
constexpr uint64_t kScopeAbstractUnixSocket = 1ULL << 0;
constexpr uint64_t kScopeSignal = 1ULL << 1;

}  // namespace

int LandlockAbi() {
  long abi = syscall(SYS_landlock_create_ruleset, nullptr, 0, kCreateRulesetVersion);
  return abi > 0 ? static_cast<int>(abi) : 0;
}

std::string DescribeDistccLandlock(int abi) {
  if (abi < 4) {
    return "Landlock ABI " + std::to_string(abi) +
           ": no TCP rules (ABI >= 4 needed); the proxy and the seccomp listen rule still hold";
  }
  std::string s = "Landlock ABI " + std::to_string(abi) +
                  ": TCP bind denied, TCP connect only to the daemon ports";
  s += abi >= 6 ? "; abstract unix sockets and signals scoped to the sandbox"
                : "; no abstract-socket/signal scoping (ABI >= 6 needed; the private netns still "
                  "separates abstract sockets)";
  return s;
}

base::Result<base::UniqueFd> DistccLandlockRuleset(const std::vector<uint16_t>& connect_ports,
                                                   int abi) {
  if (abi < 4) return base::UniqueFd();
  RulesetAttr attr = {};
  attr.handled_access_net = kAccessNetBindTcp | kAccessNetConnectTcp;
  size_t size = offsetof(RulesetAttr, scoped);  // older kernels reject unknown fields
  if (abi >= 6) {
    attr.scoped = kScopeAbstractUnixSocket | kScopeSignal;
    size = sizeof attr;
  }
  base::UniqueFd fd(static_cast<int>(syscall(SYS_landlock_create_ruleset, &attr, size, 0)));
  if (!fd) return base::ErrnoError("landlock_create_ruleset (network rules)");
  for (uint16_t port : std::set<uint16_t>(connect_ports.begin(), connect_ports.end())) {
    NetPortAttr rule = {kAccessNetConnectTcp, port};
    if (syscall(SYS_landlock_add_rule, fd.get(), kRuleNetPort, &rule, 0) != 0) {
      return base::ErrnoError("landlock_add_rule connect TCP port " + std::to_string(port));
    }
  }
  return fd;
}

}  // namespace nsbuild::sandbox
