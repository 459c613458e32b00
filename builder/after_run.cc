#include "builder/after_run.h"

#include <signal.h>
#include <spdlog/spdlog.h>

#include <cstdio>

#include "base/clock.h"
#include "base/escape.h"
#include "base/exit_status.h"
#include "builder/build_report.h"
#include "builder/images.h"

namespace nsbuild::builder {

using base::kExitFailure;
using base::kExitOk;
using base::kExitSetup;

// Logs the error (escaped: it may name what a build chose) and returns `rc`.
int LogFailure(const base::Error& e, int rc, const std::string& advice) {
  std::string m = base::EscapeLine(e.Message());
  spdlog::error("{}{}", m, advice.empty() ? "" : "; " + advice);
  return rc;
}

namespace {

bool AnySetupFailure(const RunSummary& s) {
  for (const auto& n : s.nodes) {
    if (n.state == NodeState::kFailed && n.exit.setup_failure &&
        n.exit.setup_failure->step != sandbox::Step::kExec) {
      return true;
    }
  }
  return false;
}

int Verdict(const BuildSetup& s, const RunSummary& summary, const WorkDir& work, int caught) {
  if (summary.interrupted) {
    spdlog::error("interrupted: every sandbox stopped, nothing merged; {} is reset by the next run",
                  work.path());
    return 128 + (caught ? caught : SIGINT);
  }
  if (!summary.AllSucceeded()) {
    spdlog::error("build of {}-{} failed: nothing merged; logs in {}", s.recipe.name,
                  s.recipe.version, work.logs_dir());
    return AnySetupFailure(summary) ? kExitSetup : kExitFailure;
  }
  return kExitOk;
}

// Everything after the run ends well: images.txt, and the merge when asked.
base::Status HandOff(const AfterRun& o, const BuildSetup& s, const WorkDir& work,
                     const std::vector<BuiltImage>& images, int64_t source_date_epoch,
                     StepRecord* merge_step) {
  builder::HandOff h{s.recipe.name, s.recipe.version, images, work.path(), work.fd(), {}};
  h.merge_step = merge_step;
  if (!o.dest.empty()) {
    NSB_ASSIGN_OR_RETURN(
        h.merge, MergeRequestOf({&s, images, source_date_epoch, o.dest, o.recipe_path, o.replace}));
  }
  return HandOffImages(h);
}

// The handed-off images merged (with --dest), timed as the report's
// "merge" step; kExitOk or kExitFailure.
int MergeStep(const AfterRun& o, const BuildSetup& s, const WorkDir& work, int64_t epoch, double t0,
              ReportInput& report) {
  StepRecord merge{"merge", base::MonotonicSeconds() - t0};
  int rc = kExitOk;
  if (auto st = HandOff(o, s, work, report.images, epoch, &merge); !st) {
    rc = LogFailure(st.error(), kExitFailure);
    merge.ok = false;
    merge.error = st.error().Message();
  }
  merge.end = base::MonotonicSeconds() - t0;
  if (!o.dest.empty()) report.steps.push_back(merge);
  return rc;
}

}  // namespace

// After the run: distcc's counts, the denied writes, the verdict, the
// hand-off when every target succeeded, and the report files.
int FinishBuild(const AfterRun& o, const BuildSetup& s, const WorkDir& work,
                const SessionResult& run, const StepRecord& unpack, int64_t epoch, int caught) {
  const RunSummary& summary = run.summary;
  ReportInput report{s.recipe.name, s.recipe.version, &s.plan, &summary, {}, work.path(), 0};
  // The steps around the sub-phases, on their clock (0 = the scheduler began).
  double t0 = run.started;
  report.steps.push_back({"unpack", unpack.start - t0, unpack.end - t0});
  DistccSummary distcc;
  if (s.distcc) {
    distcc = SummarizeDistcc(*s.distcc, summary);
    report.distcc = &distcc;
    if (o.verbosity >= 0) std::fprintf(stderr, "%s\n", DistccStatusLine(distcc).c_str());
  }
  TellWrites(s, summary, work, o.verbosity, report);
  int rc = Verdict(s, summary, work, caught);
  if (rc == kExitOk) {
    report.images = MeasureImages(s, work);
    WarnMisplacedModules(s, work, report);
    rc = MergeStep(o, s, work, epoch, t0, report);
  }
  report.builder_max_rss_kib = SelfMaxRssKib();
  WriteReportFiles(o.report_path, o.trace_path, report);
  return rc;
}

}  // namespace nsbuild::builder
