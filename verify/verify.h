// `nsbuild verify`: build a recipe under a pinned control and under varied
// conditions, compare the images canonically (merge/image_diff.h), and when
// they differ, name the cause: rebuild varying one factor at a time, and
// the control once more to tell plain nondeterminism apart.
#pragma once

#include <string>
#include <vector>

#include "builder/setup.h"

namespace nsbuild::verify {

// The build's own options (recipe, --impl, -j, -l, --policy, --source,
// --distcc, as `nsbuild build` takes them), but DISTCC_FALLBACK=0 always.
struct VerifyOptions : builder::PlanOptions {
  std::string variations = "+all";
  int rounds = 1;        // experiment builds
  std::string work_dir;  // default: ./nsbuild-work/NAME-VERSION/verify
  std::string report_path;
  int verbosity = -1;
};

// 0 reproducible, 1 not reproducible, 2 usage or build failure.
int RunVerify(const VerifyOptions& options);

}  // namespace nsbuild::verify
