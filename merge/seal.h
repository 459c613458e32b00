// Sealing an image: after the sandbox's pid namespace is gone, take the
// image out of the build's reach before anything of it is trusted. Every
// inode that will be linked into the destination is given to the policy's
// owner, so the build uid can no longer write it (a hardlink shares the
// inode: without this the build could rewrite an installed file later).
#pragma once

#include <cstdint>
#include <optional>

#include "base/result.h"
#include "merge/image_scan.h"
#include "merge/merge_policy.h"

namespace nsbuild::merge {

struct SealOptions {
  // Clamp mtimes to this (SOURCE_DATE_EPOCH) when set.
  std::optional<int64_t> source_date_epoch;
};

// Changes ownership (and clamps mtimes) of every file, directory and symlink
// in `img`, re-checking each inode is the one scanned. Inodes with links
// outside the image are left alone: changing them would change a host file
// (the checks reject them). Without root, ownership stays the caller's.
base::Status SealImage(Image& img, const MergePolicy& policy, const SealOptions& opts);

}  // namespace nsbuild::merge
