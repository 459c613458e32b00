// The critical path around one scheduler run: before it, the history of the
// work dir gives each sub-phase an estimate and the scheduler its start
// order and its process census (CPU sharing by priority); after it, the
// run's times go back into the history. One object, so a caller of the
// scheduler adds two lines.
#pragma once

#include <memory>
#include <string>

#include "base/unique_fd.h"
#include "builder/critical_path.h"
#include "builder/history.h"
#include "builder/process_census.h"
#include "builder/scheduler.h"

namespace nsbuild::builder {

class CriticalPathRun {
 public:
  // `work_dir` is the work dir's fd (history.h's trust rules apply to it).
  CriticalPathRun(base::BorrowedFd work_dir, std::string recipe, const Plan& plan);

  // Sets the start order and the observer (which must outlive the run).
  void Configure(SchedulerOptions& options);
  // Records the run's times and writes the history back (a failure to
  // write is only a warning: the next run estimates without it). `plan` is
  // the one the run ran (the same nodes as the constructor's).
  void Remember(const Plan& plan, const RunSummary& summary);

  const std::vector<double>& priorities() const { return priorities_; }
  size_t estimates_from_history() const { return from_history_; }

 private:
  int work_dir_;
  std::string recipe_;
  History history_;
  std::vector<double> priorities_;
  size_t from_history_ = 0;
  std::unique_ptr<ProcessCensus> census_;
};

}  // namespace nsbuild::builder
