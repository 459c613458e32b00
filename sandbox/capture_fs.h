// The private filesystem capture mode writes into while a sandbox runs: a
// tmpfs of its own, sized like the sandbox's writable tmpfs mounts, mounted
// nosuid, nodev and noexec and attached nowhere (a detached mount held only
// by its fd). A sandbox holding a captured file can thus fill at most that
// much memory, never the disk, and can neither run nor setuid what it wrote;
// no other process, and no later build, can reach it by a path.
//
// Root makes it directly (fsopen/fsmount). Anyone else cannot mount in the
// host's namespaces, so a short-lived helper makes it in a user and mount
// namespace of its own that maps only the caller's ids, and hands the mount
// fd back over a socket; the mount outlives the helper through that fd.
#pragma once

#include <cstdint>

#include "base/result.h"
#include "base/unique_fd.h"

namespace nsbuild::sandbox {

// Files the capture may hold at most, whatever its size.
inline constexpr uint64_t kCaptureMaxInodes = 16384;

// The root of a fresh tmpfs of `size_bytes` (> 0), as an O_PATH-like mount fd.
base::Result<base::UniqueFd> MakeCaptureFs(uint64_t size_bytes);

}  // namespace nsbuild::sandbox
