// The machine-readable record of a build: --report writes one JSON document
// (per sub-phase times, exit status, CPU and RSS; per image file count and
// bytes; the jobserver's peak), --trace writes Chrome trace events that
// Perfetto shows as a timeline, one track per target. JSON only here, at the
// edge; the scheduler fills plain structs.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/result.h"
#include "builder/distcc.h"
#include "builder/images.h"
#include "builder/plan.h"
#include "builder/recipe.h"
#include "builder/results.h"
#include "builder/run_steps.h"
#include "builder/write_report.h"

namespace nsbuild::builder {

struct ReportInput {
  std::string package, version;
  const Plan* plan = nullptr;
  const RunSummary* summary = nullptr;
  std::vector<BuiltImage> images;  // empty unless the build succeeded
  std::string work_dir;
  long builder_max_rss_kib = 0;
  const DistccSummary* distcc = nullptr;  // builds through distcc only
  // Write watching: "fail" or "warn" as the policy says, empty = not watched.
  std::string on_violation;
  std::vector<AddWrite> addwrite;
  std::vector<std::vector<HomeLeftover>> home_leftovers;  // per target
  // The steps around the sub-phases (unpack, merge), on their clock.
  std::vector<StepRecord> steps;
  std::vector<std::string> warnings;  // e.g. modules where their implementation does not look
};

std::string ReportJson(const ReportInput& in);
// The write watcher's records, as `run --json-status` and the report show them.
nlohmann::json ViolationsJson(const std::vector<sandbox::WriteViolation>& violations);
std::string TraceJson(const ReportInput& in);
base::Status WriteReport(const std::string& path, const ReportInput& in);
base::Status WriteTrace(const std::string& path, const ReportInput& in);

}  // namespace nsbuild::builder
