// What `nsbuild build` does once its sandboxes have run: the verdict (exit
// status), distcc's counts, the denied writes, the hand-off of the images
// (and their merge, timed as the report's "merge" step), and the report.
#pragma once

#include <cstdint>
#include <string>

#include "base/result.h"
#include "builder/run_steps.h"
#include "builder/session.h"
#include "builder/setup.h"
#include "builder/workdir.h"

namespace nsbuild::builder {

// Logs the error (escaped: it may name what a build chose) and returns `rc`.
int LogFailure(const base::Error& e, int rc, const std::string& advice = "");

// The operator's choices that matter after the run.
struct AfterRun {
  int verbosity = 0;
  std::string dest;         // merge into this root; "" = leave the images
  std::string recipe_path;  // the package's origin
  bool replace = false;     // may replace a package from another origin
  std::string report_path, trace_path;
};

// After the run: distcc's counts, the denied writes, the verdict, the
// hand-off when every target succeeded, and the report files. `unpack` is
// the source step's record; `caught` the stop signal, 0 if none.
int FinishBuild(const AfterRun& options, const BuildSetup& setup, const WorkDir& work,
                const SessionResult& run, const StepRecord& unpack, int64_t source_date_epoch,
                int caught);

}  // namespace nsbuild::builder
