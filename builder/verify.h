// `nsbuild verify`: build a recipe under a pinned control and under varied
// conditions, compare the images canonically (merge/image_diff.h), and when
// they differ, name the cause: rebuild varying one factor at a time, and
// the control once more to tell plain nondeterminism apart.
#pragma once

#include <string>
#include <vector>

namespace nsbuild::builder {

struct VerifyOptions {
  std::string recipe_path;
  std::vector<std::string> impls;
  std::string variations = "+all";
  int rounds = 1;  // experiment builds
  int jobs = 0;
  std::string work_dir;  // default: ./nsbuild-work/NAME-VERSION/verify
  std::string policy;
  std::string source;  // the operator's --source, instead of the recipe's
  std::string distcc;  // as nsbuild build --distcc, but DISTCC_FALLBACK=0
  std::string report_path;
  int verbosity = -1;
};

// 0 reproducible, 1 not reproducible, 2 usage or build failure.
int RunVerify(const VerifyOptions& options);

}  // namespace nsbuild::builder
