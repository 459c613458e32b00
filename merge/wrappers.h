// Exec wrappers, the job python-exec does for Gentoo: when several
// implementations install the same program, each copy moves to
// usr/lib/nsbuild-exec/IMPL/NAME and the program's path becomes a relative
// symlink to one dispatcher (nsbuild-exec, see exec_dispatcher.cc), which
// picks the implementation at run time. The build's preference order is
// written beside it, in usr/lib/nsbuild-exec/.order/NAME.
#pragma once

#include <string>
#include <vector>

#include "merge/image_scan.h"
#include "merge/plan.h"

namespace nsbuild::merge {

inline constexpr const char* kDispatcherPath = "usr/lib/nsbuild-exec/nsbuild-exec";
inline constexpr const char* kOrderDir = "usr/lib/nsbuild-exec/.order";

struct WrapRequest {
  std::vector<std::string> dirs;  // destination-relative, e.g. "usr/bin"
  std::vector<std::string> impl_order;
  std::string dispatcher;  // the nsbuild-exec executable's bytes
};

// True when `head` starts with a shebang whose interpreter (or env's first
// argument) has `impl` as its file name.
bool ShebangNames(const std::string& head, const std::string& impl);

// Moves the wrapped executables of every named implementation and adds the
// symlinks, order files and the dispatcher. `wrapped` receives "DIR/NAME"
// of each wrapped program. ELF executables are always wrapped; a script
// only when its shebang names its implementation.
void WrapExecutables(std::vector<std::vector<PlanItem>>* per_image,
                     const std::vector<ScannedImage>& images, const WrapRequest& req,
                     std::vector<PlanItem>* generated, std::vector<std::string>* wrapped);

// The relative symlink target from directory `from_dir` to `to` (both
// destination-relative).
std::string RelativeTarget(const std::string& from_dir, const std::string& to);

}  // namespace nsbuild::merge
