// Capabilities, child side: the command keeps none. Bounding, ambient,
// inheritable, effective and permitted sets are all emptied before exec, so
// even a setuid or file-capability binary inside gains nothing (no_new_privs
// also holds). PID 1 drops its own once the command runs.
#pragma once

namespace nsbuild::sandbox::child {

// 0 or -errno. cap_last comes from the parent (sandbox/caps.h, CapLastCap)
// because the child must not open files or call libcap for it.
int DropAllCapabilities(int cap_last);

}  // namespace nsbuild::sandbox::child
