// Landlock as an extra layer of the "distcc" network: TCP bind nowhere, TCP
// connect only to the forwarded ports (ABI >= 4), and, with ABI >= 6, no
// abstract unix socket and no signal leaving the sandbox's Landlock domain.
// The forwarding proxy (forward.h) is what limits addresses; Landlock limits
// ports but not addresses, so it is a second wall, never the only one.
// Parent side: builds the ruleset (allocation allowed); the command only
// calls landlock_restrict_self on the fd (sandbox/child/command.cc).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"

namespace nsbuild::sandbox {

// The kernel's Landlock ABI version; 0 when Landlock is absent or disabled.
int LandlockAbi();

// What the "distcc" network gets from Landlock on this kernel, one phrase.
std::string DescribeDistccLandlock(int abi);

// The ruleset for the "distcc" network: an invalid fd when abi < 4.
base::Result<base::UniqueFd> DistccLandlockRuleset(const std::vector<uint16_t>& connect_ports,
                                                   int abi);

}  // namespace nsbuild::sandbox
