// Everything decided before anything runs: the recipe, the implementations,
// the policy (parsed once, build_policy.h), the plan, -j and distcc. A
// failure here is bad input. `nsbuild build` plans its one build with it,
// `nsbuild verify` plans once for all of its builds.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "builder/build_policy.h"
#include "builder/distcc.h"
#include "builder/impls.h"
#include "builder/plan.h"
#include "builder/recipe.h"
#include "builder/source.h"
#include "builder/source_steps.h"
#include "builder/workdir.h"

namespace nsbuild::builder {

// What the operator chose for a build; the command line fills it the same
// way for build and verify (cli/build_options.h).
struct PlanOptions {
  std::string recipe_path;
  std::vector<std::string> impls;  // --impl, empty = the recipe's choice
  int jobs = 0;                    // 0 = the local CPUs (plus distcc's remote slots)
  double load_average = 0;         // -l: no new sub-phase (and no make job) above it
  // The operator's policy; empty = "default", or the recipe's when it is
  // stricter (policy_file.h, ChoosePolicy).
  std::string policy;
  // The operator's source, instead of the recipe's (source.h).
  std::string source;
  // distcc daemons (distcc's host syntax); empty = the policy's, if its
  // network is "distcc". no_fallback: DISTCC_FALLBACK=0 (verify).
  std::string distcc;
  bool distcc_no_fallback = false;
  // Override the policy's "writes": "" keeps it, else "fail" or "warn";
  // no_watch_writes turns the watcher off (benchmarks, debugging).
  std::string on_write_violation;
  bool no_watch_writes = false;
  // Stray file creations succeed into WORK/capture/TARGET-PHASE
  // instead of failing (still violations); implies watching.
  bool capture_writes = false;
  bool dry_run = false;  // plan only: the source is not resolved
};

struct BuildSetup {
  Recipe recipe;
  BuildPolicy policy;
  SourceRef source;                // opened once, reopened by each build of a set
  std::vector<OpenPatch> patches;  // the recipe's, opened with the source (source_steps.h)
  std::vector<Implementation> impls;
  Plan plan;
  int jobs = 1;
  std::optional<DistccConfig> distcc;  // builds through distcc (distcc.h)

  // Per sub-phase: the recipe's, else the policy's; 0 = none.
  double TimeoutSeconds() const;
};

base::Result<BuildSetup> PlanBuild(const PlanOptions& options);

// The work dir for `nsbuild build`: --work-dir, else ./nsbuild-work/NAME-VERSION.
std::string DefaultWorkDir(const Recipe& recipe, const std::string& suffix = "");
// WORK/distcc, emptied, for a build through distcc (no-op otherwise).
base::Status PrepareDistccDir(BuildSetup& setup, const WorkDir& work);
// Patches and `prepare`, once, on a freshly prepared source.
base::Status PrepareOnceFor(const BuildSetup& setup, const PreparedSource& src,
                            const WorkDir& work);

}  // namespace nsbuild::builder
