// `nsbuild build` below the CLI: recipe → implementations → source → plan →
// scheduler over sandboxes → report → hand-off of the images. Returns the
// documented exit status; every failure is explained on stderr.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "builder/distcc.h"
#include "builder/images.h"
#include "builder/plan.h"
#include "builder/recipe.h"
#include "builder/scheduler.h"
#include "builder/source.h"
#include "builder/source_steps.h"
#include "builder/variation.h"
#include "builder/workdir.h"
#include "builder/write_policy.h"
#include "sandbox/policy.h"

namespace nsbuild::builder {

struct BuildOptions {
  std::string recipe_path;
  std::vector<std::string> impls;  // --impl, empty = the recipe's choice
  int jobs = 0;                    // 0 = number of CPUs
  double load_average = 0;
  FailureMode failure_mode = FailureMode::kFinishOthers;
  std::string work_dir;  // empty = ./nsbuild-work/NAME-VERSION
  // The operator's policy; empty = "default", or the recipe's when it is
  // stricter (policy_file.h, ChoosePolicy).
  std::string policy;
  // The operator's source, instead of the recipe's (source.h).
  std::string source;
  std::string report_path, trace_path;
  std::string dest;      // merge the images here when every target succeeded
  bool replace = false;  // --replace: the package may replace one from another origin
  // distcc daemons (distcc's host syntax); empty = the policy's, if its
  // network is "distcc". no_fallback: DISTCC_FALLBACK=0 (verify).
  std::string distcc;
  bool distcc_no_fallback = false;
  bool jobserver_fifo = false;  // make >= 4.4's fifo: form instead of the pipe
  bool dry_run = false;
  // Override the policy's "writes": "" keeps it, else "fail" or "warn";
  // no_watch_writes turns the watcher off (benchmarks, debugging).
  std::string on_write_violation;
  bool no_watch_writes = false;
  // Stray file creations succeed into WORK/capture/TARGET-PHASE
  // instead of failing (still violations); implies watching.
  bool capture_writes = false;
  int verbosity = 0;
  // Reproducibility checks: the conditions every sub-phase runs under
  // (nullptr: the defaults), and where the images of a successful build go.
  const Variation* variation = nullptr;
  std::vector<BuiltImage>* images_out = nullptr;
};

int RunBuild(const BuildOptions& options);

// Everything decided before anything runs; a failure here is bad input.
// `nsbuild verify` plans each of its builds with it too.
struct BuildSetup {
  Recipe recipe;
  std::string policy_name;         // what ChoosePolicy chose: a name, or the operator's file
  SourceRef source;                // opened once, reopened by each build of a set
  std::vector<OpenPatch> patches;  // the recipe's, opened with the source (source_steps.h)
  std::vector<Implementation> impls;
  sandbox::Policy policy;
  WritesPolicy writes;
  Plan plan;
  int jobs = 1;
  std::optional<DistccConfig> distcc;  // builds through distcc (distcc.h)
};
base::Result<BuildSetup> PlanBuild(const BuildOptions& options);
// The work dir for `nsbuild build`: --work-dir, else ./nsbuild-work/NAME-VERSION.
std::string DefaultWorkDir(const Recipe& recipe, const std::string& suffix = "");
// WORK/distcc, emptied, for a build through distcc (no-op otherwise).
base::Status PrepareDistccDir(BuildSetup& setup, const WorkDir& work);
// Patches and `prepare`, once, on a freshly prepared source.
base::Status PrepareOnceFor(const BuildSetup& setup, const PreparedSource& src,
                            const WorkDir& work);
// What a variation changes in a planned build: the inside ids, -j.
void AdjustSetup(const Variation& variation, BuildSetup& setup);

}  // namespace nsbuild::builder
