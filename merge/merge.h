// The merger's entry points: take the images a build produced (one per
// implementation), treat each as hostile, and merge them into a
// destination crash-safely. `nsbuild merge` and the end of `nsbuild build`
// both call MergeImages; `nsbuild check` calls CheckImages.
//
// MergeImages, in order: scan each image with fds (image_scan.h) → seal it
// (seal.h) → check it (checks.h) → hash contents and ELF QA (content.h) →
// exec wrappers (wrappers.h) → resolve implementations (plan.h) → lock the
// destination and recover any interrupted merge → plan against the
// destination and its database (dest_plan.h) → journaled execution
// (transaction.h). Any rejection, conflict or collision stops it before
// the destination is touched.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "merge/checks.h"
#include "merge/merge_policy.h"

namespace nsbuild::merge {

struct ImageSpec {
  std::string impl;  // implementation name; "" for a single unnamed image
  std::string path;
};

struct MergeRequest {
  std::string dest;
  std::string package;  // "" → the first image's directory name
  std::vector<ImageSpec> images;
  std::vector<std::string> impl_order;    // the recipe's preference order
  std::vector<std::string> wrapped_dirs;  // e.g. {"usr/bin"}; empty: no wrappers
  std::string dispatcher_path;            // nsbuild-exec binary, needed for wrappers
  MergePolicy policy;
  std::optional<int64_t> source_date_epoch;
  // Where the package comes from, recorded in its database: a recipe
  // ("recipe /abs/path.json" with the recipe's sha256) or the operator
  // ("operator": `nsbuild merge`). A package installed from another origin
  // is not replaced unless `replace` (another recipe reusing its name).
  std::string origin = "operator";
  std::string origin_sha256;
  bool replace = false;
  // After a successful merge, empty every image and leave a marker naming
  // the destination (retire.h). Off only in tests that merge one image twice.
  bool retire_images = true;
  bool hash = true;  // false skips sha256 (benchmarks); the database then has no hashes
  bool seal = true;
  // Tests only: runs after planning, right before the destination changes,
  // to make an image vanish mid-merge.
  std::function<void()> before_execute;
};

struct MergeReport {
  std::string package;
  std::vector<Finding> rejections;      // checks and fatal notices
  std::vector<Finding> notices;         // QA notices that did not block
  std::vector<Finding> conflicts;       // between implementations
  std::vector<Finding> preferred;       // differences settled by the preference order
  std::vector<Finding> collisions;      // with the destination
  std::vector<std::string> config_new;  // protected files whose new version is ._new_NAME
  std::vector<std::string> kept;        // old files kept because they were changed
  std::vector<std::string> wrapped;     // programs behind the dispatcher
  std::string recovered;                // what recovery did first, if anything
  std::string retire_error;             // merged, but an image could not be emptied
  size_t operations = 0;
  bool merged = false;

  // False when something blocked the merge (rejections, conflicts,
  // collisions); nothing was changed then.
  bool ok() const { return rejections.empty() && conflicts.empty() && collisions.empty(); }
};

// Merges the request's images. An Error means the merge could not run
// (unreadable image, unwritable destination, ENOSPC...): the destination is
// unchanged or, if even rollback failed, recoverable with RecoverDest. A
// report with !ok() means the images or the destination were refused.
base::Result<MergeReport> MergeImages(const MergeRequest& req);

// Scans and checks images without changing anything (no seal, no merge).
base::Result<MergeReport> CheckImages(const std::vector<ImageSpec>& images,
                                      const MergePolicy& policy);

// Completes or rolls back an interrupted merge or uninstall; returns what
// was done ("" when nothing was pending).
base::Result<std::string> RecoverDest(const std::string& dest);

}  // namespace nsbuild::merge
