// Several builds of one recipe at once: verify's control, experiments and
// one-factor rebuilds. Each build keeps its own work dir, source copy and
// variation; builder's session (builder/session.h) runs them all as one
// set: -j and -l bound them together (as they bound the implementations of
// one `nsbuild build`), the status shows them all, and Ctrl-C or one
// failure stops every sandbox of every build.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "builder/session.h"
#include "builder/setup.h"
#include "verify/variation.h"

namespace nsbuild::verify {

struct BuildSetMember {
  std::string name;  // "control", "only-hostname": names its targets and logs
  Variation variation;
  std::string work_dir;
};

struct BuildSetOptions {
  double load_average = 0;  // -l
  std::string log_dir;      // LOG_DIR/MEMBER/TARGET-PHASE.log
  int log_dir_fd = -1;      // LOG_DIR opened (nsbuild's own, fresh)
  // The verify work dir, opened: its history (builder/history.h) gives
  // every member's sub-phases their estimates, so the set starts its
  // longest chains first, and keeps this set's times for the next verify.
  // -1: plan order, nothing kept.
  int history_dir_fd = -1;
  int verbosity = 0;
  // Every member gets the same SOURCE_DATE_EPOCH: the recipe's, this, or
  // else the first member's source's newest mtime.
  std::optional<int64_t> source_date_epoch;
};

// The session's word on a member (ok, failed, error, start/end), and its
// images when it succeeded.
struct MemberResult : builder::MemberResult {
  std::map<std::string, std::string> images;  // target → host image path
};

struct BuildSetResult {
  std::vector<MemberResult> members;  // in the order given
  int64_t source_date_epoch = 0;
  int interrupted_by = 0;  // the signal that stopped the set, 0 if none
  int jobs = 0;
  int peak_jobs_in_use = 0;
  double wall_seconds = 0;
  double started = 0;         // steady-clock seconds at which the scheduler began
  std::string write_summary;  // the write watcher's denied writes, "" if none
  std::string bound;          // how close the set came to its bound (DescribeBound)
  // The member to blame for a set that is not ok (SessionResult::Culprit).
  std::optional<size_t> culprit;  // index into members
};

// `setup` is the build without variation, planned once for every set of a
// verify run. Errors are a failure to prepare a member (its work dir, its
// source) or the session's own; a failed or interrupted build is a result.
base::Result<BuildSetResult> RunBuildSet(const builder::BuildSetup& setup,
                                         const BuildSetOptions& options,
                                         const std::vector<BuildSetMember>& members);

}  // namespace nsbuild::verify
