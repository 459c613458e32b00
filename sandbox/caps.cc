#include "sandbox/caps.h"

#include <errno.h>
#include <sys/capability.h>
#include <sys/prctl.h>

namespace nsbuild::sandbox {

int CapLastCap() {
  // libcap asks the kernel (prctl probing / procfs) once; cached afterwards.
  return static_cast<int>(cap_max_bits()) - 1;
}

int DropAllCapabilities(int cap_last) {
  for (int cap = 0; cap <= cap_last; ++cap) {
    // EINVAL: a capability this kernel does not have; nothing to drop.
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) return -1;
  }
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) return -1;
  // capset with empty sets, straight through the syscall: libcap's cap_t
  // would allocate, which the child must not do.
  struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2] = {};
  return capset(&header, data);
}

}  // namespace nsbuild::sandbox
