// The one pass over file contents: sha256 for the database and the
// collision checks, and the ELF QA notices. Files are opened under the
// image's directory fds with O_NOFOLLOW, mapped once, and shared between
// worker threads (hashing 400 MB is the merge's biggest cost).
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "merge/checks.h"
#include "merge/image_scan.h"
#include "merge/merge_policy.h"

namespace nsbuild::merge {

struct ContentOptions {
  bool hash = true;  // false: ELF QA only (the benchmark's no-hash figure)
  int threads = 0;   // 0: one per online CPU
};

// Fills sha256/is_elf of every regular file and appends ELF notices. A file
// that cannot be read (it vanished, it changed type) is an error: the image
// is no longer the one that was checked.
base::Status ReadContents(Image& img, const MergePolicy& policy, const ContentOptions& opts,
                          std::vector<Finding>* notices);

// sha256 of everything readable from fd, lowercase hex.
base::Result<std::string> Sha256Fd(int fd);
std::string Sha256Hex(std::string_view data);

}  // namespace nsbuild::merge
