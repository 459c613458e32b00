// Capabilities: the command keeps none. Bounding, ambient, inheritable,
// effective and permitted sets are all emptied before exec, so even a setuid
// or file-capability binary inside gains nothing (no_new_privs also holds).
#pragma once

namespace nsbuild::sandbox {

// Child side (raw syscalls); returns 0 or -errno. cap_last comes from the
// parent (CapLastCap) because the child must not open files for it.
int DropAllCapabilities(int cap_last);
int CapLastCap();

}  // namespace nsbuild::sandbox
