#include "builder/build.h"

#include <signal.h>
#include <spdlog/spdlog.h>

#include <cstdio>

#include "base/escape.h"
#include "base/exit_status.h"
#include "builder/build_report.h"
#include "builder/critical_path_run.h"
#include "builder/diagnose.h"
#include "builder/images.h"
#include "builder/launcher_dir.h"
#include "builder/phase_request.h"
#include "builder/preflight.h"
#include "builder/run_steps.h"
#include "builder/sandbox_runner.h"
#include "builder/session.h"
#include "builder/workdir.h"

namespace nsbuild::builder {

using base::kExitFailure;
using base::kExitOk;
using base::kExitSetup;
using base::kExitUsage;
namespace {

// Logs the error (escaped: it may name what a build chose) and returns `rc`.
int Fail(const base::Error& e, int rc, const std::string& advice = "") {
  std::string m = base::EscapeLine(e.Message());
  spdlog::error("{}{}", m, advice.empty() ? "" : "; " + advice);
  return rc;
}

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

base::Result<std::unique_ptr<Session>> OpenSession(const BuildOptions& o, const BuildSetup& s,
                                                   const WorkDir& work) {
  SessionOptions so;
  so.jobs = s.jobs;
  so.load_average = o.load_average;
  so.failure_mode = o.failure_mode;
  so.timeout_seconds = s.TimeoutSeconds();
  so.write_violations_fail = s.policy.writes.on_violation == OnViolation::kFail;
  so.verbosity = o.verbosity;
  so.log_dir = work.logs_dir();
  so.log_dir_fd = work.logs_fd();
  so.decorate = [&s](SchedulerOptions& sched, const Plan& plan) {
    AddDiagnosis(sched, plan, s.policy.sandbox, s.recipe);
  };
  // Leases are fifos in WORK/jobserver for --jobserver-fifo, and for the
  // compiler launcher (launcher_dir.h), which takes its slots by their path.
  bool launcher = s.jobs > 1 && !FindLauncherBinary().empty();
  if (o.jobserver_fifo || launcher) {
    NSB_ASSIGN_OR_RETURN(auto ids, MappedHostIds(s.policy.sandbox));
    so.fifo =
        SessionOptions::Fifo{work.fd(), work.path(), kInsideJobserverFifo, ids.first, ids.second};
    so.fifo->as_descriptors = !o.jobserver_fifo;
    so.fifo->or_pipe = !o.jobserver_fifo;
  }
  return Session::Open(so);
}

// Everything after the run ends well: images.txt, and the merge when asked.
base::Status HandOff(const BuildOptions& o, const BuildSetup& s, const WorkDir& work,
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
int MergeStep(const BuildOptions& o, const BuildSetup& s, const WorkDir& work, int64_t epoch,
              double t0, ReportInput& report) {
  StepRecord merge{"merge", StepClock() - t0};
  int rc = kExitOk;
  if (auto st = HandOff(o, s, work, report.images, epoch, &merge); !st) {
    rc = Fail(st.error(), kExitFailure);
    merge.ok = false;
    merge.error = st.error().Message();
  }
  merge.end = StepClock() - t0;
  if (!o.dest.empty()) report.steps.push_back(merge);
  return rc;
}

// After the run: distcc's counts, the denied writes, the verdict, the
// hand-off when every target succeeded, and the report files.
int Finish(const BuildOptions& o, const BuildSetup& s, const WorkDir& work,
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

// The part that runs: work dir, session, source, sandboxes, hand-off.
int Execute(const BuildOptions& o, BuildSetup& s) {
  auto work = WorkDir::Open(o.work_dir.empty() ? DefaultWorkDir(s.recipe) : o.work_dir);
  if (!work.ok()) return Fail(work.error(), kExitUsage, WorkDirAdvice());
  if (auto st = work->Reset(); !st) return Fail(st.error(), kExitFailure);
  // Before the source copy: a Ctrl-C during it stops the run.
  auto session = OpenSession(o, s, *work);
  if (!session.ok()) return Fail(session.error(), kExitFailure);
  StepRecord unpack{"unpack", StepClock()};
  auto src = PrepareSource(s.source, *work, s.policy.sandbox);
  unpack.end = StepClock();
  if (!src.ok()) {
    spdlog::error("{}", base::EscapeText(src.error().Message()));
    return kExitUsage;
  }
  if (auto st = PrepareOnceFor(s, *src, *work); !st) {
    spdlog::error("{}", base::EscapeText(st.error().Message()));
    return kExitFailure;
  }
  if (auto st = PrepareDistccDir(s, *work); !st) return Fail(st.error(), kExitFailure);
  // Ours, made afresh every run: the capture dirs of one run are never
  // another's, and nothing planted there is written through.
  if (o.capture_writes) {
    if (auto dir = work->FreshDir("capture", 0700); !dir) return Fail(dir.error(), kExitFailure);
  }
  int64_t epoch = s.recipe.source_date_epoch.value_or(src->newest_mtime);
  BuildContext ctx{&s.recipe, s.impls, &*work,         src->root,
                   epoch,     s.jobs,  o.load_average, (*session)->devnull()};
  if (s.distcc) ctx.distcc = &*s.distcc;
  ctx.launcher_dir = LauncherDirFor((*session)->job_server(), *work);
  SandboxRunner runner(s.policy.sandbox, ctx, s.plan, s.policy.writes.watch);
  if (o.capture_writes) runner.set_capture_root(work->path() + "/capture");
  // Longest chain first, from this recipe's history (critical_path_run.h).
  CriticalPathRun critical(base::BorrowedFd(work->fd()), s.recipe.name, s.plan);
  auto run = (*session)->Run({{"", &s.plan, &runner}},
                             [&critical](SchedulerOptions& so) { critical.Configure(so); });
  if (!run.ok()) return Fail(run.error(), kExitFailure);
  const RunSummary& summary = run->summary;
  critical.Remember(summary);
  if (o.verbosity >= 0 && !summary.interrupted)
    std::fprintf(stderr, "%s\n", DescribeBound(s.plan, MeasureBound(s.plan, summary)).c_str());
  return Finish(o, s, *work, *run, unpack, epoch, (*session)->caught());
}

}  // namespace

int RunBuild(const BuildOptions& o) {
  auto setup = PlanBuild(o);
  if (!setup.ok()) return Fail(setup.error(), kExitUsage);
  if (o.dry_run) {
    std::printf("%s%s", DescribeSourceSteps(setup->recipe).c_str(),
                DescribePlan(setup->plan).c_str());
    return kExitOk;
  }
  std::string work_dir = o.work_dir.empty() ? DefaultWorkDir(setup->recipe) : o.work_dir;
  if (auto st = CheckBeforeWork(o.dest, work_dir, setup->recipe.name, setup->policy.sandbox); !st)
    return Fail(st.error(), kExitUsage);
  return Execute(o, *setup);
}

}  // namespace nsbuild::builder
