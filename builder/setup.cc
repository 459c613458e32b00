#include "builder/setup.h"

#include <unistd.h>

#include "builder/jobserver.h"
#include "builder/policy_file.h"
#include "builder/preflight.h"
#include "builder/sandbox_runner.h"
#include "builder/session.h"

namespace nsbuild::builder {
namespace {

// --distcc, else a policy whose network is "distcc": the daemons, and the
// local CPUs distcc's own slot limits keep local work to.
base::Status PlanDistcc(const PlanOptions& o, BuildSetup& s) {
  std::vector<sandbox::DistccHost> hosts;
  const sandbox::Policy& policy = s.policy.sandbox;
  if (!o.distcc.empty()) {
    NSB_ASSIGN_OR_RETURN(hosts, sandbox::ParseDistccHosts(o.distcc, "--distcc"));
  } else if (policy.net == sandbox::NetMode::kDistcc) {
    if (policy.distcc_hosts.empty()) {
      return base::PlainError(
          "the policy's network is \"distcc\" but it lists no distcc_hosts: give --distcc HOSTS");
    }
    hosts = policy.distcc_hosts;
  } else {
    return {};
  }
  NSB_TRY(CheckDistccInstalled());
  DistccConfig c;
  c.hosts = std::move(hosts);
  c.local_cpus = LocalCpus();
  c.fallback = !o.distcc_no_fallback;
  s.distcc = std::move(c);
  return {};
}

base::Result<BuildPolicy> PlanPolicy(const PlanOptions& o, const Recipe& recipe) {
  NSB_ASSIGN_OR_RETURN(std::string name, ChoosePolicy(o.policy, recipe.policy, recipe.path));
  NSB_ASSIGN_OR_RETURN(BuildPolicy p, LoadBuildPolicy(name));
  if (!o.on_write_violation.empty()) {
    NSB_ASSIGN_OR_RETURN(p.writes.on_violation,
                         ParseOnViolation(o.on_write_violation, "--on-write-violation"));
  }
  if (o.no_watch_writes) p.writes.watch = false;
  if (o.capture_writes && o.no_watch_writes) {
    return base::PlainError("--capture-writes needs the write watcher; drop --no-watch-writes");
  }
  return p;
}

}  // namespace

double BuildSetup::TimeoutSeconds() const {
  return recipe.timeout_seconds > 0 ? recipe.timeout_seconds : policy.sandbox.timeout_seconds;
}

base::Status PrepareDistccDir(BuildSetup& s, const WorkDir& work) {
  if (!s.distcc) return {};
  s.distcc->host_dir = work.path() + "/distcc";
  // Fresh each run: an old log would be counted again, and an old backoff
  // file would keep distcc away from a daemon that is back.
  NSB_ASSIGN_OR_RETURN(base::UniqueFd dir, work.FreshDir("distcc", 0755));
  // Owned by the ids the sandboxes' root maps to: every sandbox writes there.
  NSB_ASSIGN_OR_RETURN(auto ids, MappedHostIds(s.policy.sandbox));
  if (::geteuid() == 0 && ::fchown(dir.get(), ids.first, ids.second) != 0) {
    return base::ErrnoError("chown " + s.distcc->host_dir);
  }
  return {};
}

base::Status PrepareOnceFor(const BuildSetup& s, const PreparedSource& src, const WorkDir& work) {
  return PrepareOnce(s.recipe, s.patches, src, work, s.policy.sandbox,
                     s.recipe.source_date_epoch.value_or(src.newest_mtime), s.jobs);
}

base::Result<BuildSetup> PlanBuild(const PlanOptions& o) {
  BuildSetup s;
  NSB_ASSIGN_OR_RETURN(s.recipe, LoadRecipe(o.recipe_path));
  NSB_TRY(CheckGenericPrograms(s.recipe, o.impls));
  NSB_ASSIGN_OR_RETURN(s.impls, SelectImpls(s.recipe, o.impls, DetectHostImpls()));
  NSB_ASSIGN_OR_RETURN(s.policy, PlanPolicy(o, s.recipe));
  NSB_TRY(CheckAddWrite(s.policy.sandbox, s.recipe.addwrite, s.recipe.path));
  NSB_TRY(PlanDistcc(o, s));
  // With distcc the pool also covers the daemons' slots (distcc.h).
  int remote = s.distcc ? sandbox::DistccRemoteSlots(s.distcc->hosts) : 0;
  s.jobs = o.jobs > 0 ? o.jobs : DefaultJobs(remote);
  if (s.jobs > JobServer::kMaxJobs)
    return base::PlainError("-j: at most " + std::to_string(JobServer::kMaxJobs));
  s.plan = MakePlan(s.recipe, s.impls);
  if (s.plan.nodes.empty()) return base::PlainError(o.recipe_path + ": nothing to run");
  if (!o.dry_run) {
    NSB_ASSIGN_OR_RETURN(s.source, ResolveSource(s.recipe, o.source));
    NSB_ASSIGN_OR_RETURN(s.patches, OpenPatches(s.recipe));
  }
  return s;
}

std::string DefaultWorkDir(const Recipe& recipe, const std::string& suffix) {
  return "nsbuild-work/" + recipe.name + "-" + recipe.version + suffix;
}

}  // namespace nsbuild::builder
