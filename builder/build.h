// `nsbuild build` below the CLI: plan (setup.h) → work dir and source →
// one session over the sandboxes (session.h) → report → hand-off of the
// images. Returns the documented exit status; every failure is explained
// on stderr.
#pragma once

#include <string>

#include "builder/scheduler.h"
#include "builder/setup.h"

namespace nsbuild::builder {

struct BuildOptions : PlanOptions {
  FailureMode failure_mode = FailureMode::kFinishOthers;
  std::string work_dir;  // empty = ./nsbuild-work/NAME-VERSION
  std::string report_path, trace_path;
  std::string dest;             // merge the images here when every target succeeded
  bool replace = false;         // --replace: the package may replace one from another origin
  bool jobserver_fifo = false;  // make >= 4.4's fifo: form instead of the pipe
  int verbosity = 0;
};

int RunBuild(const BuildOptions& options);

}  // namespace nsbuild::builder
