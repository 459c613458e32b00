#include "builder/build_set.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <limits>

#include "base/dir_fd.h"
#include "builder/build.h"
#include "builder/diagnose.h"
#include "builder/disorder_view.h"
#include "builder/jobserver.h"
#include "builder/phase_request.h"
#include "builder/sandbox_runner.h"
#include "builder/signals.h"
#include "builder/source.h"
#include "builder/status.h"
#include "builder/write_report.h"

namespace nsbuild::builder {
namespace {

namespace fs = std::filesystem;

// One build of the set and everything its sandboxes refer to while they
// run. Held through unique_ptr: its runner keeps references into it.
struct Member {
  BuildSetMember spec;
  BuildSetup setup;
  std::optional<WorkDir> work;
  PreparedSource source;
  std::unique_ptr<DisorderView> view;  // fileordering; unmounted with the member
  BuildContext ctx;
  std::unique_ptr<SandboxRunner> runner;
  size_t first_node = 0;  // where its sub-phases start in the combined plan
};
using Members = std::vector<std::unique_ptr<Member>>;

// `plan` is the build without variation, planned once for all members
// (finding the host's implementations takes most of a second).
base::Result<std::unique_ptr<Member>> PrepareMember(const BuildSetup& plan,
                                                    const BuildSetMember& spec) {
  auto m = std::make_unique<Member>();
  m->spec = spec;
  m->setup = plan;
  AdjustSetup(m->spec.variation, m->setup);
  auto opened = WorkDir::Open(spec.work_dir);
  if (!opened.ok()) return base::Wrap(opened.take_error(), WorkDirAdvice());
  WorkDir work = std::move(*opened);
  // A view a killed run left mounted must go before the work dir is emptied
  // (removing through it would reach the source, and a dead one is ENOTCONN);
  // only a FUSE mount on that very directory, never through a symlink.
  DisorderView::DetachStale(work.fd(), work.path(), "source-view");
  NSB_TRY(base::RemoveTreeAt(base::BorrowedFd(work.fd()), "source-view"));
  NSB_TRY(work.Reset());
  m->work = work;
  NSB_TRY(PrepareDistccDir(m->setup, work));
  NSB_ASSIGN_OR_RETURN(m->source, PrepareSource(m->setup.source, work, m->setup.policy));
  if (spec.variation.disorder_source) {
    base::UniqueFd log(::openat(work.logs_fd(), "disorderfs.log",
                                O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0644));
    auto view =
        DisorderView::Mount(m->source.root, work.fd(), work.path(), "source-view", log.get());
    if (!view.ok())
      return base::Wrap(view.take_error(), "see " + work.logs_dir() + "/disorderfs.log");
    m->view = std::move(*view);
    m->source.root = m->view->path();
  }
  return m;
}

// The member's sandboxes share the set's job pool, except that num_cpus
// gives its build one job: a make at -j1 gets no lease (SandboxRunner), and
// its sub-phase still holds one slot of the pool, so -j still bounds the
// whole set.
void Wire(Member& m, const JobServer& js, int64_t source_date_epoch, int devnull) {
  m.ctx = BuildContext{&m.setup.recipe,   m.setup.impls, &*m.work, m.source.root,
                       source_date_epoch, js.jobs(),     0,        devnull};
  m.ctx.variation = &m.spec.variation;
  if (m.setup.distcc) m.ctx.distcc = &*m.setup.distcc;
  if (m.spec.variation.jobs == 1) m.ctx.jobs = 1;
  m.runner =
      std::make_unique<SandboxRunner>(m.setup.policy, m.ctx, m.setup.plan, m.setup.writes.watch);
}

// Every member's plan, one after the other, targets named MEMBER/TARGET.
Plan Combine(Members& members) {
  Plan all;
  for (auto& m : members) {
    size_t target0 = all.targets.size();
    m->first_node = all.nodes.size();
    for (const auto& t : m->setup.plan.targets) all.targets.push_back(m->spec.name + "/" + t);
    for (SubPhase s : m->setup.plan.nodes) {
      s.id += m->first_node;
      s.target += target0;
      for (auto& d : s.deps) d += m->first_node;
      all.nodes.push_back(std::move(s));
    }
  }
  return all;
}

// Hands each sub-phase of the combined plan to its own member's runner.
class SetRunner : public CommandRunner {
 public:
  explicit SetRunner(const Members& members) : members_(members) {}
  base::Result<std::unique_ptr<RunningCommand>> Start(const SubPhase& node, int output_fd,
                                                      const Lease& lease) override {
    const Member* owner = members_.front().get();
    for (const auto& m : members_) {
      if (m->first_node <= node.id) owner = m.get();
    }
    return owner->runner->Start(owner->setup.plan.nodes[node.id - owner->first_node], output_fd,
                                lease);
  }

 private:
  const Members& members_;
};

std::string NodeError(const Plan& all, size_t id, const NodeResult& n) {
  std::string why = n.error.empty() ? StateName(n.state) : n.error;
  std::string out = all.NameOf(all.nodes[id]) + ": " + why;
  return n.log_path.empty() ? out : out + " (log: " + n.log_path + ")";
}

MemberResult Collect(const Member& m, const Plan& all, const RunSummary& s) {
  MemberResult r;
  r.name = m.spec.name;
  r.ok = !s.interrupted;
  r.start = std::numeric_limits<double>::max();
  std::string other;
  for (size_t i = 0; i < m.setup.plan.nodes.size(); ++i) {
    size_t id = m.first_node + i;
    const NodeResult& n = s.nodes[id];
    if (n.state != NodeState::kWaiting && n.state != NodeState::kSkipped) {
      r.start = std::min(r.start, n.start);
      r.end = std::max(r.end, n.end);
    }
    if (n.state == NodeState::kSucceeded) continue;
    r.ok = false;
    // The sub-phase that failed explains more than those it stopped.
    if (n.state == NodeState::kFailed && !r.failed) r.error = NodeError(all, id, n);
    r.failed = r.failed || n.state == NodeState::kFailed;
    if (other.empty()) other = NodeError(all, id, n);
  }
  if (r.error.empty()) r.error = s.interrupted ? "interrupted" : other;
  if (r.start > r.end) r.start = r.end;
  if (r.ok) {
    for (const auto& t : m.setup.plan.targets) r.images[t] = m.work->Target(t).image;
  }
  return r;
}

double SteadySeconds() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

}  // namespace

bool BuildSetResult::AllOk() const {
  for (const auto& m : members) {
    if (!m.ok) return false;
  }
  return interrupted_by == 0;
}

base::Result<BuildSetResult> RunBuildSet(const BuildSetOptions& o,
                                         const std::vector<BuildSetMember>& specs) {
  if (specs.empty()) return base::PlainError("no builds to run");
  // Installed first: a Ctrl-C while sources are copied stops the set as
  // soon as the scheduler looks, before any sandbox starts.
  NSB_ASSIGN_OR_RETURN(auto stop, StopSignals::Install());
  BuildOptions b;
  b.recipe_path = o.recipe_path;
  b.impls = o.impls;
  b.jobs = o.jobs;
  b.policy = o.policy;
  b.source = o.source;
  // A daemon that fails must fail the build: a silent local fallback would
  // compare a different build than the one asked for.
  b.distcc = o.distcc;
  b.distcc_no_fallback = true;
  NSB_ASSIGN_OR_RETURN(BuildSetup plan, PlanBuild(b));
  Members members;
  for (const auto& spec : specs) {
    NSB_ASSIGN_OR_RETURN(auto m, PrepareMember(plan, spec));
    members.push_back(std::move(m));
  }
  const Member& first = *members.front();
  BuildSetResult out;
  out.source_date_epoch = first.setup.recipe.source_date_epoch.value_or(
      o.source_date_epoch.value_or(first.source.newest_mtime));
  int jobs = o.jobs > 0 ? o.jobs : static_cast<int>(std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN)));
  NSB_ASSIGN_OR_RETURN(auto js, JobServer::Create(jobs));
  base::UniqueFd devnull(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!devnull) return base::ErrnoError("open /dev/null");
  for (auto& m : members) {
    Wire(*m, *js, out.source_date_epoch, devnull.get());
    if (o.log_dir_fd >= 0) {
      // LOG_DIR is the caller's, fresh; each member's directory is made
      // afresh in it, through its fd.
      auto dir = base::MakeFreshDirAt(base::BorrowedFd(o.log_dir_fd), m->spec.name, 0755);
      if (!dir.ok()) return base::Wrap(dir.take_error(), o.log_dir);
    } else {
      std::error_code ec;
      fs::create_directories(o.log_dir + "/" + m->spec.name, ec);
      if (ec) return base::Error{ec.value(), "mkdir " + o.log_dir + "/" + m->spec.name};
    }
  }
  Plan all = Combine(members);
  SetRunner runner(members);
  auto status = MakeStatus(o.verbosity, IsSmartTerminal(STDERR_FILENO), stderr);
  double timeout = first.setup.recipe.timeout_seconds > 0 ? first.setup.recipe.timeout_seconds
                                                          : first.setup.policy.timeout_seconds;
  // One failed build leaves nothing to compare it with: stop the others.
  SchedulerOptions so{FailureMode::kFailFast, 0, timeout, stop->read_fd(), o.log_dir};
  so.log_dir_fd = o.log_dir_fd;
  so.write_violations_fail = first.setup.writes.on_violation == OnViolation::kFail;
  AddDiagnosis(so, all, first.setup.policy, first.setup.recipe);
  double started = SteadySeconds();
  RunSummary summary = Scheduler(all, runner, *js, *status, so).Run();
  out.started = started;
  out.wall_seconds = SteadySeconds() - started;
  out.jobs = js->jobs();
  out.peak_jobs_in_use = summary.peak_tokens_in_use;
  if (summary.interrupted) out.interrupted_by = stop->caught() ? stop->caught() : SIGINT;
  for (const auto& m : members) out.members.push_back(Collect(*m, all, summary));
  // Denied writes, as `nsbuild build` tells them (whether they failed the
  // build is the policy's, through the scheduler).
  out.write_summary = FormatWriteSummary(all, summary);
  return out;
}

}  // namespace nsbuild::builder
