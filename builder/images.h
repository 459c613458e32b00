// The images a successful build produced, one per target, and the hand-off
// point to the merger. HandOffImages is the one place that decides what
// happens to them; until the merger module lands it records them in
// WORK/images.txt and tells the user where they are.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"

namespace nsbuild::builder {

struct Image {
  std::string target;  // implementation name or "all"
  std::string path;    // host path of its D
  uint64_t files = 0;  // regular files and symlinks
  uint64_t bytes = 0;  // sum of regular file sizes
};

// Counts an image without following anything in it (it is untrusted).
Image MeasureImage(const std::string& target, const std::string& path);

struct HandOff {
  std::string package, version;
  std::vector<std::string> wrap;  // image dirs whose executables get wrapped
  std::string work_dir;
  std::vector<Image> images;
};

// Called only when every target succeeded. The merger's entry point goes
// here: merge::MergeImages(images, wrap, destination).
base::Status HandOffImages(const HandOff& handoff);

}  // namespace nsbuild::builder
