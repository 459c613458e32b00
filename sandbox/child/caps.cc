#include "sandbox/child/caps.h"

#include <errno.h>
#include <linux/capability.h>
#include <sys/prctl.h>

#include "sandbox/child/sys.h"

namespace nsbuild::sandbox::child {

int DropBoundingSet(int cap_last) {
  for (int cap = 0; cap <= cap_last; ++cap) {
    long rc = Sys(SYS_prctl, PR_CAPBSET_DROP, cap, 0, 0, 0);
    if (rc < 0 && rc != -EINVAL) return static_cast<int>(rc);  // EINVAL: not in this kernel
  }
  return 0;
}

int DropCapabilities() {
  long rc = Sys(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  if (rc < 0 && rc != -EINVAL) return static_cast<int>(rc);
  struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2] = {};
  return static_cast<int>(Sys(SYS_capset, &header, data));
}

}  // namespace nsbuild::sandbox::child
