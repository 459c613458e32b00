#include "builder/build.h"

#include <spdlog/spdlog.h>

#include <cstdio>

#include "base/clock.h"
#include "base/escape.h"
#include "base/exit_status.h"
#include "builder/after_run.h"
#include "builder/critical_path_run.h"
#include "builder/diagnose.h"
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
using base::kExitUsage;
namespace {

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

// The part that runs: work dir, session, source, sandboxes, hand-off.
int Execute(const BuildOptions& o, BuildSetup& s) {
  auto work = WorkDir::Open(o.work_dir.empty() ? DefaultWorkDir(s.recipe) : o.work_dir);
  if (!work.ok()) return LogFailure(work.error(), kExitUsage, WorkDirAdvice());
  if (auto st = work->Reset(); !st) return LogFailure(st.error(), kExitFailure);
  // Before the source copy: a Ctrl-C during it stops the run.
  auto session = OpenSession(o, s, *work);
  if (!session.ok()) return LogFailure(session.error(), kExitFailure);
  StepRecord unpack{"unpack", base::MonotonicSeconds()};
  auto src = PrepareSource(s.source, *work, s.policy.sandbox);
  unpack.end = base::MonotonicSeconds();
  if (!src.ok()) {
    spdlog::error("{}", base::EscapeText(src.error().Message()));
    return kExitUsage;
  }
  if (auto st = PrepareOnceFor(s, *src, *work); !st) {
    spdlog::error("{}", base::EscapeText(st.error().Message()));
    return kExitFailure;
  }
  if (auto st = PrepareDistccDir(s, *work); !st) return LogFailure(st.error(), kExitFailure);
  // Ours, made afresh every run: the capture dirs of one run are never
  // another's, and nothing planted there is written through.
  if (o.capture_writes) {
    if (auto dir = work->FreshDir("capture", 0700); !dir)
      return LogFailure(dir.error(), kExitFailure);
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
  auto run =
      (*session)->Run({{"", &s.plan, &runner}},
                      [&critical](SchedulerOptions& so, const Plan&) { critical.Configure(so); });
  if (!run.ok()) return LogFailure(run.error(), kExitFailure);
  const RunSummary& summary = run->summary;
  critical.Remember(s.plan, summary);
  if (o.verbosity >= 0 && !summary.interrupted)
    std::fprintf(stderr, "%s\n", DescribeBound(s.plan, MeasureBound(s.plan, summary)).c_str());
  AfterRun after{o.verbosity, o.dest, o.recipe_path, o.replace, o.report_path, o.trace_path};
  return FinishBuild(after, s, *work, *run, unpack, epoch, (*session)->caught());
}

}  // namespace

int RunBuild(const BuildOptions& o) {
  auto setup = PlanBuild(o);
  if (!setup.ok()) return LogFailure(setup.error(), kExitUsage);
  if (o.dry_run) {
    std::printf("%s%s", DescribeSourceSteps(setup->recipe).c_str(),
                DescribePlan(setup->plan).c_str());
    return kExitOk;
  }
  std::string work_dir = o.work_dir.empty() ? DefaultWorkDir(setup->recipe) : o.work_dir;
  if (auto st = CheckBeforeWork(o.dest, work_dir, setup->recipe.name, setup->policy.sandbox); !st)
    return LogFailure(st.error(), kExitUsage);
  return Execute(o, *setup);
}

}  // namespace nsbuild::builder
