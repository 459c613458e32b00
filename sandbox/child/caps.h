// Capabilities, child side: the command keeps none. Bounding, ambient,
// inheritable, effective and permitted sets are all emptied before exec, so
// even a setuid or file-capability binary inside gains nothing (no_new_privs
// also holds). PID 1 empties the bounding set once, just before it clones
// the command, which inherits the empty set: the bounding set only limits
// what an execve (or capset's inheritable set) may gain, so both keep their
// effective capabilities for the rest of their setup. Each then drops its
// own ambient, inheritable, effective and permitted sets.
#pragma once

namespace nsbuild::sandbox::child {

// 0 or -errno. cap_last comes from the parent (sandbox/caps.h, CapLastCap)
// because the child must not open files or call libcap for it.
int DropBoundingSet(int cap_last);

// Clears the ambient set, then the inheritable, effective and permitted
// sets. 0 or -errno.
int DropCapabilities();

}  // namespace nsbuild::sandbox::child
