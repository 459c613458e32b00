// The steps of `nsbuild build` around its sub-phases: the source's unpack
// before the scheduler runs and the merge after it, recorded for the report
// and the trace (which otherwise showed only the sub-phases). Plain data; the
// merge's findings are kept as the one-line texts the terminal shows.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

namespace nsbuild::merge {
struct MergeReport;
}

namespace nsbuild::builder {

struct StepRecord {
  std::string name;  // "unpack", "merge"
  // Seconds on the sub-phases' clock (0 = the scheduler started): the
  // unpack runs before, so its times are negative.
  double start = 0, end = 0;
  bool ok = true;
  std::string error;  // why it failed, in one line
  // The merge's outcome: operations done, and its findings by kind.
  bool merged = false;
  size_t operations = 0;
  std::vector<std::string> rejections, conflicts, collisions, notices, preferred;
};

// The merge's report as a step's fields (merged, operations, findings).
void RecordMerge(const merge::MergeReport& report, StepRecord* step);

// {"name", "start_seconds", "end_seconds", "ok", ["error"], and for the
// merge "merged", "operations", "rejections", ..., "preferred"}.
nlohmann::json StepJson(const StepRecord& step);

}  // namespace nsbuild::builder
