// The one pass over file contents: sha256 for the database and the
// collision checks, and the ELF QA notices. Files are opened under the
// image's directory fds with O_NOFOLLOW, mapped once, and shared between
// worker threads (hashing 400 MB is the merge's biggest cost).
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "merge/checks.h"
#include "merge/image_scan.h"
#include "merge/merge_policy.h"
#include "merge/seal.h"

namespace nsbuild::merge {

struct ContentOptions {
  bool hash = true;                   // false: ELF QA only (the benchmark's no-hash figure)
  int threads = 0;                    // 0: one per online CPU
  const SealOptions* seal = nullptr;  // set when merging: seal each file (seal.h)
};

// For every regular file: checks the open inode is the scanned one (inode,
// type, mode, links, size), seals it when asked, lists its xattrs, fills
// sha256/is_elf and appends ELF notices. A file that cannot be read or
// changed since the scan is an error: the image is not the one scanned.
// Files with links outside the image are only listed, never sealed or read.
base::Status ReadContents(ScannedImage& img, const MergePolicy& policy, const ContentOptions& opts,
                          std::vector<Finding>* notices);

}  // namespace nsbuild::merge
