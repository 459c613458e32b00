// Network: a private network namespace whose only interface is loopback (or
// nothing at all). Child side, raw syscalls.
#pragma once

namespace nsbuild::sandbox {

// Brings lo up in the current network namespace; 0 or -errno.
int BringUpLoopback();

}  // namespace nsbuild::sandbox
