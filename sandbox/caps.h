// Capabilities, parent side: how many the kernel has, for the child
// (sandbox/child/caps.h drops them all).
#pragma once

namespace nsbuild::sandbox {

// The highest capability number this kernel knows (libcap asks the kernel).
int CapLastCap();

}  // namespace nsbuild::sandbox
