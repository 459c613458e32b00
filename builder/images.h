// The images a successful build produced, one per target, and the hand-off
// point to the merger. HandOffImages is the one place that decides what
// happens to them; until the merger module lands it records them in
// WORK/images.txt and tells the user where they are.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "builder/run_steps.h"

namespace nsbuild::builder {

struct Image {
  std::string target;  // implementation name or "all"
  std::string path;    // host path of its D
  uint64_t files = 0;  // regular files and symlinks
  uint64_t bytes = 0;  // sum of regular file sizes
};

// Counts an image (opened as `dir_fd`; -1 counts nothing) without following
// anything in it (it is untrusted).
Image MeasureImage(const std::string& target, const std::string& path, int dir_fd);

// Everything merge::MergeRequest needs from the build, field for field:
// images → images (impl = target), impl_order, wrap → wrapped_dirs,
// source_date_epoch, and the policy document whose "merge" object applies.
struct HandOff {
  std::string package, version;
  std::vector<Image> images;            // one per target, `all` last
  std::vector<std::string> impl_order;  // the build's implementations, preferred first
  std::vector<std::string> wrap;        // image dirs whose executables get wrapped
  int64_t source_date_epoch = 0;
  std::string policy;  // name or file, as given to the build
  std::string work_dir;
  int work_dir_fd = -1;       // images.txt is written through it
  std::string dest;           // merge into this root; empty: leave the images in the work dir
  std::string recipe_path;    // the package's origin, recorded by the merger
  std::string recipe_sha256;  // of the recipe as it was parsed (Recipe::sha256)
  bool replace = false;       // may replace a package of that name from another origin
  StepRecord* merge_step = nullptr;  // when given: the merge's outcome, for the report
};

// Called only when every target succeeded: lists the images in
// WORK/images.txt and, with a destination, merges them (merge::MergeImages).
base::Status HandOffImages(const HandOff& handoff);

}  // namespace nsbuild::builder
