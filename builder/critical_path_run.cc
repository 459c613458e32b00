#include "builder/critical_path_run.h"

#include <spdlog/spdlog.h>

#include "base/escape.h"

namespace nsbuild::builder {

CriticalPathRun::CriticalPathRun(base::BorrowedFd work_dir, std::string recipe, const Plan& plan)
    : work_dir_(work_dir.get()), recipe_(std::move(recipe)), history_(History::Load(work_dir)) {
  Estimates e = Estimate(plan, history_, recipe_);
  priorities_ = Priorities(plan, e.seconds);
  from_history_ = e.from_history;
  spdlog::debug("critical path: {} of {} estimate(s) from the history", from_history_,
                plan.nodes.size());
  census_ = std::make_unique<ProcessCensus>(ProcessCensus::Options{priorities_});
}

void CriticalPathRun::Configure(SchedulerOptions& options) {
  options.start_order = StartOrder(priorities_);
  options.observer = census_.get();
}

void CriticalPathRun::Remember(const Plan& plan, const RunSummary& summary) {
  if (summary.interrupted) return;  // cut short: its times say nothing
  history_.RecordRun(recipe_, plan, summary);
  if (auto st = history_.Save(base::BorrowedFd(work_dir_)); !st)
    spdlog::warn("history not kept: {}", base::EscapeLine(st.error().Message()));
}

}  // namespace nsbuild::builder
