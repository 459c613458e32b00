// Several builds of one recipe at once: verify's control, experiments and
// one-factor rebuilds. Each build keeps its own work dir, source copy and
// variation, but the sub-phases of all of them form one plan that one
// scheduler runs under one jobserver: -j bounds them together (as it bounds
// the implementations of one `nsbuild build`), the status shows them all,
// and Ctrl-C or one failure stops every sandbox of every build.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "builder/variation.h"

namespace nsbuild::builder {

struct BuildSetMember {
  std::string name;  // "control", "only-hostname": names its targets and logs
  Variation variation;
  std::string work_dir;
};

struct BuildSetOptions {
  std::string recipe_path;
  std::vector<std::string> impls;
  int jobs = 0;  // 0: CPUs
  std::string policy;
  std::string distcc;   // every member through distcc, DISTCC_FALLBACK=0
  std::string source;   // the operator's --source
  std::string log_dir;  // LOG_DIR/MEMBER/TARGET-PHASE.log
  // LOG_DIR opened (nsbuild's own, fresh): member dirs and logs are made
  // through it. -1: by path.
  int log_dir_fd = -1;
  int verbosity = 0;
  // Every member gets the same SOURCE_DATE_EPOCH: the recipe's, this, or
  // else the first member's source's newest mtime.
  std::optional<int64_t> source_date_epoch;
};

struct MemberResult {
  std::string name;
  bool ok = false;
  bool failed = false;                        // a sub-phase of its own failed (not just stopped)
  std::string error;                          // why not ok, for a person
  std::map<std::string, std::string> images;  // target → host image path
  double start = 0, end = 0;                  // seconds since the set started
};

struct BuildSetResult {
  std::vector<MemberResult> members;
  int64_t source_date_epoch = 0;
  int interrupted_by = 0;  // the signal that stopped the set, 0 if none
  int jobs = 0;
  int peak_jobs_in_use = 0;
  double wall_seconds = 0;
  double started = 0;         // steady-clock seconds at which the scheduler began
  std::string write_summary;  // the write watcher's denied writes, "" if none

  bool AllOk() const;
};

// Errors are bad input (recipe, policy, source) or a failure to prepare a
// member's work dir; a failed or interrupted build is a result.
base::Result<BuildSetResult> RunBuildSet(const BuildSetOptions& options,
                                         const std::vector<BuildSetMember>& members);

}  // namespace nsbuild::builder
