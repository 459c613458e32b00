#include "sandbox/caps.h"

// libcap's cap_max_bits() asks the kernel; its header clashes with
// linux/capability.h, so it is declared here.
extern "C" unsigned cap_max_bits(void);

namespace nsbuild::sandbox {

int CapLastCap() { return static_cast<int>(cap_max_bits()) - 1; }

}  // namespace nsbuild::sandbox
