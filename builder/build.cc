#include "builder/build.h"

#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include "base/escape.h"
#include "base/exit_status.h"
#include "base/fs.h"
#include "builder/critical_path_run.h"
#include "builder/images.h"
#include "builder/impls.h"
#include "builder/jobserver.h"
#include "builder/launcher_dir.h"
#include "builder/phase_request.h"
#include "builder/policy_file.h"
#include "builder/report.h"
#include "builder/sandbox_runner.h"
#include "builder/signals.h"
#include "builder/source.h"
#include "builder/status.h"
#include "builder/workdir.h"
#include "builder/write_policy.h"
#include "builder/write_report.h"

namespace nsbuild::builder {

using base::kExitFailure;
using base::kExitOk;
using base::kExitSetup;
using base::kExitUsage;
namespace {

using Setup = BuildSetup;

long SelfMaxRssKib() {
  struct rusage ru = {};
  ::getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

std::vector<Image> Images(const Setup& s, const WorkDir& work) {
  std::vector<Image> out;
  for (const auto& t : s.plan.targets) {
    // The image is the sandbox's: counted through an fd, never by path.
    auto dir = work.OpenBeneath("targets/" + t + "/image", O_RDONLY | O_DIRECTORY);
    out.push_back(MeasureImage(t, work.Target(t).image, dir.ok() ? dir->get() : -1));
  }
  return out;
}

void WriteOutputs(const BuildOptions& o, const ReportInput& in) {
  if (!o.report_path.empty()) {
    if (auto st = WriteReport(o.report_path, in); !st)
      spdlog::error("{}", base::EscapeLine(st.error().Message()));
  }
  if (!o.trace_path.empty()) {
    if (auto st = WriteTrace(o.trace_path, in); !st)
      spdlog::error("{}", base::EscapeLine(st.error().Message()));
  }
}

// --distcc, else a policy whose network is "distcc": the daemons, and the
// local CPUs distcc's own slot limits keep local work to.
base::Status PlanDistcc(const BuildOptions& o, Setup& s, int local_cpus) {
  std::vector<sandbox::DistccHost> hosts;
  if (!o.distcc.empty()) {
    NSB_ASSIGN_OR_RETURN(hosts, sandbox::ParseDistccHosts(o.distcc, "--distcc"));
  } else if (s.policy.net == sandbox::NetMode::kDistcc) {
    if (s.policy.distcc_hosts.empty()) {
      return base::PlainError(
          "the policy's network is \"distcc\" but it lists no distcc_hosts: give --distcc HOSTS");
    }
    hosts = s.policy.distcc_hosts;
  } else {
    return {};
  }
  NSB_TRY(CheckDistccInstalled());
  DistccConfig c;
  c.hosts = std::move(hosts);
  c.local_cpus = local_cpus;
  c.fallback = !o.distcc_no_fallback;
  s.distcc = std::move(c);
  return {};
}

// The counts after the run: distcc's log for jobs, the relay for connections.
DistccSummary SummarizeDistcc(const DistccConfig& c, const RunSummary& summary) {
  DistccSummary d;
  d.hosts = InsideHostsVariable(c);
  if (auto counts = CountDistccLogFile(c.host_dir)) d.compiles = *counts;
  for (const auto& n : summary.nodes) {
    for (uint64_t k : n.exit.forwarded) d.connections += k;
    d.connection_failures += n.exit.forward_failures;
  }
  return d;
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

int Verdict(const Setup& s, const RunSummary& summary, const WorkDir& work, int caught) {
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

// What a run holds while it runs: the job pool, the stop pipe, /dev/null.
struct RunResources {
  std::unique_ptr<JobServer> jobs;
  std::unique_ptr<StopSignals> stop;
  base::UniqueFd devnull;
};

// Leases are fifos in WORK/jobserver for --jobserver-fifo, and for the
// compiler launcher (launcher_dir.h), which takes its slots by their path.
base::Result<std::unique_ptr<JobServer>> FifoJobServer(const Setup& s, const WorkDir& work) {
  NSB_ASSIGN_OR_RETURN(auto ids, MappedHostIds(s.policy));
  // Ours, fresh, not writable by the sandboxes: only each fifo is theirs.
  return JobServer::CreateFifoAt(s.jobs, base::BorrowedFd(work.fd()), "jobserver",
                                 work.path() + "/jobserver", kInsideJobserverFifo, ids.first,
                                 ids.second);
}

base::Result<RunResources> Acquire(const BuildOptions& o, const Setup& s, const WorkDir& work) {
  RunResources r;
  if (o.jobserver_fifo) {
    NSB_ASSIGN_OR_RETURN(r.jobs, FifoJobServer(s, work));
  } else if (s.jobs > 1 && !FindLauncherBinary().empty()) {
    auto fifo = FifoJobServer(s, work);
    if (fifo.ok()) {
      r.jobs = std::move(fifo).value();
      r.jobs->set_fifo_as_descriptors(true);
    } else {
      spdlog::warn("no compiler launcher: {}", base::EscapeLine(fifo.error().Message()));
    }
  }
  if (!r.jobs) {
    NSB_ASSIGN_OR_RETURN(r.jobs, JobServer::Create(s.jobs));
  }
  NSB_ASSIGN_OR_RETURN(r.stop, StopSignals::Install());
  r.devnull.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!r.devnull) return base::ErrnoError("open /dev/null");
  return r;
}

// The launcher only where its slots come from a fifo (Acquire).
std::string LauncherDirFor(const JobServer& jobs, const WorkDir& work) {
  std::string bin = FindLauncherBinary();
  if (!jobs.fifo_leases() || bin.empty()) return "";
  auto dir = MakeLauncherDir(work, bin);
  if (!dir.ok()) spdlog::warn("no compiler launcher: {}", base::EscapeLine(dir.error().Message()));
  return dir.ok() ? *dir : "";
}

RunSummary Schedule(const BuildOptions& o, Setup& s, const WorkDir& work, const PreparedSource& src,
                    RunResources& res) {
  BuildContext ctx{&s.recipe,
                   s.impls,
                   &work,
                   src.root,
                   s.recipe.source_date_epoch.value_or(src.newest_mtime),
                   s.jobs,
                   o.load_average,
                   res.devnull.get()};
  ctx.variation = o.variation;
  if (s.distcc) ctx.distcc = &*s.distcc;
  ctx.launcher_dir = LauncherDirFor(*res.jobs, work);
  SandboxRunner runner(s.policy, ctx, s.plan, s.writes.watch);
  if (o.capture_writes) runner.set_capture_root(work.path() + "/capture");
  auto status = MakeStatus(o.verbosity, IsSmartTerminal(STDERR_FILENO), stderr);
  double timeout =
      s.recipe.timeout_seconds > 0 ? s.recipe.timeout_seconds : s.policy.timeout_seconds;
  SchedulerOptions so{o.failure_mode, o.load_average, timeout, res.stop->read_fd(),
                      work.logs_dir()};
  so.log_dir_fd = work.logs_fd();
  so.write_violations_fail = s.writes.on_violation == OnViolation::kFail;
  CriticalPathRun critical(base::BorrowedFd(work.fd()), s.recipe.name, s.plan);
  critical.Configure(so);
  RunSummary summary = Scheduler(s.plan, runner, *res.jobs, *status, so).Run();
  critical.Remember(summary);
  if (o.verbosity >= 0 && !summary.interrupted) {
    std::string bound = DescribeBound(s.plan, MeasureBound(s.plan, summary));
    std::fprintf(stderr, "%s\n", bound.c_str());
  }
  return summary;
}

// After the run: the denied writes (an error or a warning, as the policy
// says) and what each target left in its HOME (notices), on stderr and
// into the report.
void TellWrites(const BuildOptions& o, const Setup& s, const RunSummary& summary,
                const WorkDir& work, ReportInput& report) {
  if (!s.writes.watch) return;
  report.on_violation = s.writes.on_violation == OnViolation::kFail ? "fail" : "warn";
  report.addwrite = s.recipe.addwrite;
  std::string blocks = FormatWriteSummary(s.plan, summary);
  if (!blocks.empty()) {
    std::fputs(blocks.c_str(), stderr);
    size_t n = summary.WriteViolationCount();
    if (s.writes.on_violation == OnViolation::kFail) {
      spdlog::error(
          "{} write(s) outside the allowed roots were denied; the policy fails the build "
          "(allow a path with the recipe's \"addwrite\", or --on-write-violation warn)",
          n);
    } else {
      spdlog::warn("{} write(s) outside the allowed roots were denied (policy: warn)", n);
    }
  }
  for (const auto& t : s.plan.targets) {
    report.home_leftovers.push_back(ListHomeLeftovers(work.Target(t).home));
    std::string notice = FormatHomeLeftovers(t, report.home_leftovers.back());
    if (o.verbosity >= 0 && !notice.empty()) std::fputs(notice.c_str(), stderr);
  }
}

// The part that runs: source, jobserver, sandboxes, scheduler, hand-off.
int Execute(const BuildOptions& o, Setup& s) {
  std::string dir = o.work_dir.empty() ? DefaultWorkDir(s.recipe) : o.work_dir;
  auto work = WorkDir::Open(dir);
  if (!work.ok()) {
    return spdlog::error("{}; {}", base::EscapeLine(work.error().Message()), WorkDirAdvice()),
           kExitUsage;
  }
  if (auto st = work->Reset(); !st)
    return spdlog::error("{}", base::EscapeLine(st.error().Message())), kExitFailure;
  auto src = PrepareSource(s.source, *work, s.policy);
  if (!src.ok()) return spdlog::error("{}", base::EscapeText(src.error().Message())), kExitUsage;
  auto res = Acquire(o, s, *work);
  if (!res.ok()) return spdlog::error("{}", base::EscapeLine(res.error().Message())), kExitFailure;
  if (auto st = PrepareDistccDir(s, *work); !st)
    return spdlog::error("{}", base::EscapeLine(st.error().Message())), kExitFailure;
  if (o.capture_writes) {
    // Ours, made afresh every run: the capture dirs of one run are never
    // another's, and nothing planted there is written through.
    if (auto dir = work->FreshDir("capture", 0700); !dir)
      return spdlog::error("{}", base::EscapeLine(dir.error().Message())), kExitFailure;
  }
  RunSummary summary = Schedule(o, s, *work, *src, *res);
  ReportInput report{s.recipe.name, s.recipe.version, &s.plan, &summary, {}, work->path(), 0};
  DistccSummary distcc;
  if (s.distcc) {
    distcc = SummarizeDistcc(*s.distcc, summary);
    report.distcc = &distcc;
    if (o.verbosity >= 0) std::fprintf(stderr, "%s\n", DistccStatusLine(distcc).c_str());
  }
  TellWrites(o, s, summary, *work, report);
  int rc = Verdict(s, summary, *work, res->stop->caught());
  if (rc == kExitOk) {
    report.images = Images(s, *work);
    if (o.images_out) *o.images_out = report.images;
    HandOff h{s.recipe.name, s.recipe.version,
              report.images, {},
              s.recipe.wrap, s.recipe.source_date_epoch.value_or(src->newest_mtime),
              s.policy_name, work->path()};
    h.work_dir_fd = work->fd();
    for (const auto& impl : s.impls) h.impl_order.push_back(impl.name);
    h.dest = o.dest;
    h.recipe_path = o.recipe_path;
    h.recipe_sha256 = s.recipe.sha256;
    h.replace = o.replace;
    if (auto st = HandOffImages(h); !st) {
      spdlog::error("{}", base::EscapeLine(st.error().Message()));
      rc = kExitFailure;
    }
  }
  report.builder_max_rss_kib = SelfMaxRssKib();
  WriteOutputs(o, report);
  return rc;
}

}  // namespace

void AdjustSetup(const Variation& v, BuildSetup& s) {
  // verify's user_group variation: every sandbox of this build, and the
  // ownership of its directories, follow the varied ids.
  if (v.uid) s.policy.inside_uid = *v.uid;
  if (v.gid) s.policy.inside_gid = *v.gid;
  if (v.jobs > 0) s.jobs = v.jobs;
  // distcc's local slots follow the CPUs the sandboxes may use.
  if (v.cpus > 0 && s.distcc) s.distcc->local_cpus = v.cpus;
}

base::Status PrepareDistccDir(BuildSetup& s, const WorkDir& work) {
  if (!s.distcc) return {};
  s.distcc->host_dir = work.path() + "/distcc";
  // Fresh each run: an old log would be counted again, and an old backoff
  // file would keep distcc away from a daemon that is back.
  NSB_ASSIGN_OR_RETURN(base::UniqueFd dir, work.FreshDir("distcc", 0755));
  // Owned by the ids the sandboxes' root maps to: every sandbox writes there.
  NSB_ASSIGN_OR_RETURN(auto ids, MappedHostIds(s.policy));
  if (::geteuid() == 0 && ::fchown(dir.get(), ids.first, ids.second) != 0) {
    return base::ErrnoError("chown " + s.distcc->host_dir);
  }
  return {};
}

base::Result<BuildSetup> PlanBuild(const BuildOptions& o) {
  BuildSetup s;
  NSB_ASSIGN_OR_RETURN(s.recipe, LoadRecipe(o.recipe_path));
  NSB_ASSIGN_OR_RETURN(s.impls, SelectImpls(s.recipe, o.impls, DetectHostImpls()));
  NSB_ASSIGN_OR_RETURN(s.policy_name, ChoosePolicy(o.policy, s.recipe.policy, s.recipe.path));
  NSB_ASSIGN_OR_RETURN(PolicyDocument doc, LoadPolicyDocument(s.policy_name));
  NSB_ASSIGN_OR_RETURN(s.policy, SandboxPolicyOf(doc));
  NSB_ASSIGN_OR_RETURN(s.writes, WritesPolicyOf(doc));
  if (!o.on_write_violation.empty()) {
    NSB_ASSIGN_OR_RETURN(s.writes.on_violation,
                         ParseOnViolation(o.on_write_violation, "--on-write-violation"));
  }
  if (o.no_watch_writes) s.writes.watch = false;
  if (o.capture_writes && o.no_watch_writes) {
    return base::PlainError("--capture-writes needs the write watcher; drop --no-watch-writes");
  }
  int cpus = static_cast<int>(std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN)));
  NSB_TRY(PlanDistcc(o, s, cpus));
  // With distcc the pool also covers the daemons' slots (distcc.h).
  int remote = s.distcc ? sandbox::DistccRemoteSlots(s.distcc->hosts) : 0;
  s.jobs = o.jobs > 0 ? o.jobs : cpus + remote;
  if (o.variation) AdjustSetup(*o.variation, s);
  if (s.jobs > JobServer::kMaxJobs)
    return base::PlainError("-j: at most " + std::to_string(JobServer::kMaxJobs));
  s.plan = MakePlan(s.recipe, s.impls);
  if (s.plan.nodes.empty()) return base::PlainError(o.recipe_path + ": nothing to run");
  if (!o.dry_run) {
    NSB_ASSIGN_OR_RETURN(s.source, ResolveSource(s.recipe, o.source));
  }
  return s;
}

std::string DefaultWorkDir(const Recipe& recipe, const std::string& suffix) {
  return "nsbuild-work/" + recipe.name + "-" + recipe.version + suffix;
}

int RunBuild(const BuildOptions& o) {
  auto setup = PlanBuild(o);
  if (!setup.ok()) {
    spdlog::error("{}", base::EscapeLine(setup.error().Message()));
    return kExitUsage;
  }
  if (o.dry_run) {
    std::printf("%s", DescribePlan(setup->plan).c_str());
    return kExitOk;
  }
  return Execute(o, *setup);
}

}  // namespace nsbuild::builder
