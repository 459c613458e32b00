// The one pass over file contents: sha256 for the database and the
// collision checks, and the ELF QA notices. Files are opened under the
// image's directory fds with O_NOFOLLOW, read once, and shared between
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

// Workers at least, whatever the CPU count. An image the page cache no
// longer holds (written long before, or pushed out) makes the pass wait on
// the disk, and each worker has one read in flight: at 100k files read cold
// on the 2-CPU VM, the pass took 4.1 s with 2 workers, 2.2 s with 8 and 1.6 s
// with 16 (1.5 s with 32); from the page cache, 0.6 s with any of them.
constexpr unsigned kReadDepth = 16;

struct ContentOptions {
  bool hash = true;                   // false: ELF QA only (the benchmark's no-hash figure)
  int threads = 0;                    // 0: one per online CPU, at least kReadDepth
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
