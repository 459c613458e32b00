// Network: a private network namespace whose only interface is loopback (or
// nothing at all). Child side, async-signal-safe.
#pragma once

namespace nsbuild::sandbox {

// Brings lo up in the current network namespace; 0 or -1 with errno.
int BringUpLoopback();

}  // namespace nsbuild::sandbox
