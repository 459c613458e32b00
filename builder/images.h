// The images a successful build produced, one per target, and the hand-off
// point to the merger. HandOffImages is the one place that decides what
// happens to them: recorded in WORK/images.txt, and merged when asked.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "builder/run_steps.h"
#include "builder/setup.h"
#include "merge/merge.h"

namespace nsbuild::builder {

// Where a build left one image and how big it is, for the report and the
// hand-off; the merger scans it afresh (merge::ScannedImage).
struct BuiltImage {
  std::string target;  // implementation name or "all"
  std::string path;    // host path of its D
  uint64_t files = 0;  // regular files and symlinks
  uint64_t bytes = 0;  // sum of regular file sizes
};

// Counts an image (opened as `dir_fd`; -1 counts nothing) without following
// anything in it (it is untrusted).
BuiltImage MeasureImage(const std::string& target, const std::string& path, int dir_fd);

// The merger's request for a build's images (impl = target, `all` last):
// the build's implementations preferred in order, its wrap dirs, its
// SOURCE_DATE_EPOCH, the "merge" part of the very policy the build ran
// under (build_policy.h), and the recipe as origin.
struct MergeFacts {
  const BuildSetup* setup = nullptr;
  std::vector<BuiltImage> images;
  int64_t source_date_epoch = 0;
  std::string dest;
  std::string recipe_path;  // the package's origin, recorded by the merger
  bool replace = false;     // may replace a package of that name from another origin
};
base::Result<merge::MergeRequest> MergeRequestOf(const MergeFacts& facts);

struct HandOff {
  std::string package, version;
  std::vector<BuiltImage> images;  // one per target, `all` last
  std::string work_dir;
  int work_dir_fd = -1;  // images.txt is written through it
  // Merge the images (into merge->dest); none: leave them in the work dir.
  std::optional<merge::MergeRequest> merge;
  StepRecord* merge_step = nullptr;  // when given: the merge's outcome, for the report
};

// Called only when every target succeeded: lists the images in
// WORK/images.txt (through work_dir_fd) and, with a request, merges them
// (merge::MergeImages).
base::Status HandOffImages(const HandOff& handoff);

}  // namespace nsbuild::builder
