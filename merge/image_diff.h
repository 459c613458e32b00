// Canonical comparison of two images (or destinations): sorted paths, type,
// permission bits, symlink target and content sha256; owner and mtime only
// when asked. The basis of reproducibility verification and `nsbuild diff`.
// Both trees are read like any hostile image (merge/image_scan.h): through
// dirfds, never following a symlink.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"

namespace nsbuild::merge {

struct DiffOptions {
  bool owner = false;  // compare uid:gid
  bool mtime = false;  // compare modification times
};

struct EntryDiff {
  std::string path;
  std::string what;  // "only in A", "content", "mode 0644 vs 0755", ...
};

struct ImageDiff {
  std::string digest_a, digest_b;  // sha256 over each canonical listing
  std::vector<EntryDiff> diffs;    // sorted by path
  bool same() const { return diffs.empty(); }
};

// One line per entry, sorted: the text the digest is taken over.
base::Result<std::string> CanonicalListing(const std::string& root, const DiffOptions& opts);

base::Result<ImageDiff> DiffImages(const std::string& a, const std::string& b,
                                   const DiffOptions& opts);

// How two versions of one regular file differ, for a person: a unified diff
// (at most max_lines) when both are text, else sizes and the first differing
// byte offset.
std::string DescribeFileDifference(const std::string& a_root, const std::string& b_root,
                                   const std::string& rel, int max_lines = 40);

}  // namespace nsbuild::merge
