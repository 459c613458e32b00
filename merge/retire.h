// After a successful merge, an image's files are second names of installed
// inodes: whoever can write the image could rewrite what was installed, and
// a later merge of the same image would see files "linked to outside". So
// the merger empties each merged image (every name, deepest first) and
// leaves only a marker saying where it went; a repeated merge reads the
// marker and says "already merged into X" instead of trying again.
#pragma once

#include <optional>
#include <string>

#include "base/result.h"
#include "merge/image_scan.h"

namespace nsbuild::merge {

// Removes every scanned entry of `img` through its sealed root fd (never
// following a symlink), then writes the marker naming `dest` and `package`.
base::Status RetireImage(const ScannedImage& img, const std::string& dest,
                         const std::string& package);

// The marker of an image that was merged and emptied: "DEST (package P)",
// escaped for printing; nullopt when the image has none.
std::optional<std::string> MergedInto(const std::string& image_path);

}  // namespace nsbuild::merge
