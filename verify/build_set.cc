#include "verify/build_set.h"

#include <fcntl.h>
#include <unistd.h>

#include <functional>
#include <memory>

#include "base/dir_fd.h"
#include "builder/critical_path_run.h"
#include "builder/diagnose.h"
#include "builder/sandbox_runner.h"
#include "builder/source.h"
#include "builder/workdir.h"
#include "builder/write_report.h"
#include "verify/disorder_view.h"

namespace nsbuild::verify {
namespace {

using builder::BuildContext;
using builder::BuildSetup;
using builder::WorkDir;

// One build of the set and everything its sandboxes refer to while they
// run. Held through unique_ptr: its runner keeps references into it.
struct Member {
  BuildSetMember spec;
  BuildSetup setup;
  std::optional<WorkDir> work;
  builder::PreparedSource source;
  std::unique_ptr<DisorderView> view;  // fileordering; unmounted with the member
  BuildContext ctx;
  std::unique_ptr<builder::SandboxRunner> runner;
};
using Members = std::vector<std::unique_ptr<Member>>;

// What a variation changes in the planned build: the inside ids (every
// sandbox of the build, and the ownership of its directories), -j, and
// distcc's local slots, which follow the CPUs the sandboxes may use.
void AdjustSetup(const Variation& v, BuildSetup& s) {
  if (v.uid) s.policy.sandbox.inside_uid = *v.uid;
  if (v.gid) s.policy.sandbox.inside_gid = *v.gid;
  if (v.jobs > 0) s.jobs = v.jobs;
  if (v.cpus > 0 && s.distcc) s.distcc->local_cpus = v.cpus;
}

base::Status MountDisordered(Member& m, const WorkDir& work) {
  base::UniqueFd log(::openat(work.logs_fd(), "disorderfs.log",
                              O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0644));
  auto view = DisorderView::Mount(m.source.root, work.fd(), work.path(), "source-view", log.get());
  if (!view.ok())
    return base::Wrap(view.take_error(), "see " + work.logs_dir() + "/disorderfs.log");
  m.view = std::move(*view);
  m.source.root = m.view->path();
  return {};
}

base::Result<std::unique_ptr<Member>> PrepareMember(const BuildSetup& plan,
                                                    const BuildSetMember& spec) {
  auto m = std::make_unique<Member>();
  m->spec = spec;
  m->setup = plan;
  AdjustSetup(m->spec.variation, m->setup);
  auto opened = WorkDir::Open(spec.work_dir);
  if (!opened.ok()) return base::Wrap(opened.take_error(), builder::WorkDirAdvice());
  WorkDir work = std::move(*opened);
  // A view a killed run left mounted must go before the work dir is emptied
  // (removing through it would reach the source, and a dead one is ENOTCONN);
  // only a FUSE mount on that very directory, never through a symlink.
  DisorderView::DetachStale(work.fd(), work.path(), "source-view");
  NSB_TRY(base::RemoveTreeAt(base::BorrowedFd(work.fd()), "source-view"));
  NSB_TRY(work.Reset());
  m->work = work;
  NSB_TRY(builder::PrepareDistccDir(m->setup, work));
  NSB_ASSIGN_OR_RETURN(m->source,
                       builder::PrepareSource(m->setup.source, work, m->setup.policy.sandbox));
  NSB_TRY(builder::PrepareOnceFor(m->setup, m->source, work));
  if (spec.variation.disorder_source) NSB_TRY(MountDisordered(*m, work));
  return m;
}

// The member's sandboxes share the set's job pool, except that num_cpus
// gives its build one job: a make at -j1 gets no lease (SandboxRunner), and
// its sub-phase still holds one slot of the pool, so -j still bounds the
// whole set. Its requests are made in the variation's layout, then varied.
void Wire(Member& m, const builder::Session& session, double load_average, int64_t epoch) {
  m.ctx = BuildContext{&m.setup.recipe, m.setup.impls,
                       &*m.work,        m.source.root,
                       epoch,           session.job_server().jobs(),
                       load_average,    session.devnull()};
  if (m.setup.distcc) m.ctx.distcc = &*m.setup.distcc;
  if (m.spec.variation.jobs == 1) m.ctx.jobs = 1;
  m.ctx.layout = LayoutOf(m.spec.variation);
  m.ctx.vary = [v = &m.spec.variation](sandbox::RunRequest& req) { ApplyVariation(*v, req); };
  m.runner = std::make_unique<builder::SandboxRunner>(m.setup.policy.sandbox, m.ctx, m.setup.plan,
                                                      m.setup.policy.writes.watch);
}

MemberResult Images(const Member& m, const builder::MemberResult& r) {
  MemberResult out;
  static_cast<builder::MemberResult&>(out) = r;
  if (r.ok) {
    for (const auto& t : m.setup.plan.targets) out.images[t] = m.work->Target(t).image;
  }
  return out;
}

}  // namespace

base::Result<BuildSetResult> RunBuildSet(const BuildSetup& plan, const BuildSetOptions& o,
                                         const std::vector<BuildSetMember>& specs) {
  if (specs.empty()) return base::PlainError("no builds to run");
  builder::SessionOptions so;
  so.jobs = plan.jobs;
  so.load_average = o.load_average;
  // One failed build leaves nothing to compare it with: stop the others.
  so.failure_mode = builder::FailureMode::kFailFast;
  so.timeout_seconds = plan.TimeoutSeconds();
  so.write_violations_fail = plan.policy.writes.on_violation == builder::OnViolation::kFail;
  so.verbosity = o.verbosity;
  so.log_dir = o.log_dir;
  so.log_dir_fd = o.log_dir_fd;
  so.decorate = [&plan](builder::SchedulerOptions& sched, const builder::Plan& all) {
    builder::AddDiagnosis(sched, all, plan.policy.sandbox, plan.recipe);
  };
  // Opened first: a Ctrl-C while sources are copied stops the set as soon
  // as the scheduler looks, before any sandbox starts.
  NSB_ASSIGN_OR_RETURN(auto session, builder::Session::Open(so));
  Members members;
  for (const auto& spec : specs) {
    NSB_ASSIGN_OR_RETURN(auto m, PrepareMember(plan, spec));
    members.push_back(std::move(m));
  }
  BuildSetResult out;
  const Member& first = *members.front();
  out.source_date_epoch = plan.recipe.source_date_epoch.value_or(
      o.source_date_epoch.value_or(first.source.newest_mtime));
  std::vector<builder::SessionMember> run;
  for (auto& m : members) {
    Wire(*m, *session, o.load_average, out.source_date_epoch);
    run.push_back({m->spec.name, &m->setup.plan, m->runner.get()});
  }
  // Longest chain first across the whole set, as a build does for its
  // implementations; the combined plan only exists once the run begins.
  std::unique_ptr<builder::CriticalPathRun> critical;
  std::function<void(builder::SchedulerOptions&, const builder::Plan&)> configure;
  if (o.history_dir_fd >= 0) {
    configure = [&](builder::SchedulerOptions& sched, const builder::Plan& all) {
      critical = std::make_unique<builder::CriticalPathRun>(base::BorrowedFd(o.history_dir_fd),
                                                            plan.recipe.name, all);
      critical->Configure(sched);
    };
  }
  NSB_ASSIGN_OR_RETURN(builder::SessionResult r, session->Run(run, configure));
  if (critical) critical->Remember(r.plan, r.summary);
  if (r.AllOk())  // a set cut short says nothing of its bound
    out.bound = builder::DescribeBound(r.plan, builder::MeasureBound(r.plan, r.summary));
  out.started = r.started;
  out.wall_seconds = r.summary.wall_seconds;
  out.jobs = r.jobs;
  out.peak_jobs_in_use = r.summary.peak_tokens_in_use;
  out.interrupted_by = r.interrupted_by;
  for (size_t i = 0; i < members.size(); ++i) {
    out.members.push_back(Images(*members[i], r.members[i]));
    if (&r.members[i] == r.Culprit()) out.culprit = i;
  }
  // Denied writes, as `nsbuild build` tells them (whether they failed the
  // build is the policy's, through the scheduler).
  out.write_summary = builder::FormatWriteSummary(r.plan, r.summary);
  return out;
}

}  // namespace nsbuild::verify
