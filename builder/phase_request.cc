#include "builder/phase_request.h"

#include <unistd.h>

#include "builder/diagnose.h"
#include "builder/distcc.h"
#include "builder/launcher_dir.h"

namespace nsbuild::builder {
namespace {

// The implementation whose Python the `all` phases and generic kinds use:
// the first CPython selected, else the first Python of any kind.
const Implementation* DefaultPython(const std::vector<Implementation>& impls) {
  for (const auto& i : impls) {
    if (i.kind == ImplKind::kCPython) return &i;
  }
  for (const auto& i : impls) {
    if (i.kind != ImplKind::kGeneric) return &i;
  }
  return nullptr;
}

std::pair<std::string, std::string> PythonOf(const BuildContext& ctx, size_t target) {
  if (target < ctx.impls.size() && ctx.impls[target].kind != ImplKind::kGeneric) {
    return {ctx.impls[target].program, ctx.impls[target].name};
  }
  if (const Implementation* p = DefaultPython(ctx.impls)) return {p->program, p->name};
  return {"/usr/bin/python3", "python3"};
}

// The compiler launcher (launcher_dir.h): its directory read-only and first
// on PATH; the lease's fifo, when there is one, named to it.
void AddLauncher(const std::string& dir, const PhaseJobserver& jobserver,
                 sandbox::RunRequest& req) {
  sandbox::MountOp bind;
  bind.kind = sandbox::MountKind::kRoBind;
  bind.source = dir;
  bind.target = kInsideLauncherDir;
  req.mounts.push_back(bind);
  for (auto& kv : req.setenv) {
    if (kv.first == "PATH") kv.second = std::string(kInsideLauncherDir) + ":" + kv.second;
  }
  if (!jobserver.fifo.empty()) req.setenv.emplace_back("NSBUILD_JOBSERVER", kInsideJobserverFifo);
}

}  // namespace

EnvList PhaseEnvironment(const BuildContext& ctx, const Plan& plan, size_t target,
                         const std::string& makeflags) {
  auto [python, epython] = PythonOf(ctx, target);
  EnvList env;
  // Recipe and generic-kind variables first: the standard ones below win
  // (the recipe parser already rejects attempts to set them).
  for (const auto& kv : ctx.recipe->env) env.push_back(kv);
  if (target < ctx.impls.size()) {
    for (const auto& kv : ctx.impls[target].env) env.push_back(kv);
  }
  EnvList standard = {
      {"IMPL", plan.targets[target]},
      {"PYTHON", python},
      {"EPYTHON", epython},
      {"S", ctx.layout.Source()},
      {"BUILD_DIR", ctx.layout.Build()},
      {"D", ctx.layout.Image()},
      {"T", ctx.layout.Tmp()},
      {"TMPDIR", ctx.layout.Tmp()},
      {"HOME", ctx.layout.Home()},
      {"JOBS", std::to_string(ctx.jobs)},
      {"MAKEFLAGS", makeflags},
      {"SOURCE_DATE_EPOCH", std::to_string(ctx.source_date_epoch)},
      {"PATH", kPhasePath},
  };
  if (ctx.distcc) {
    // PATH is replaced where it stands (a reordered environment keeps the
    // first of two), the DISTCC_* names are new.
    auto extra = DistccEnvironment(*ctx.distcc, kPhasePath, ctx.layout.DistccDir());
    for (auto& kv : standard) {
      if (kv.first == "PATH") kv.second = extra.front().second;
    }
    standard.insert(standard.end(), extra.begin() + 1, extra.end());
  }
  env.insert(env.end(), standard.begin(), standard.end());
  return env;
}

sandbox::RunRequest MakePhaseRequest(const BuildContext& ctx, const Plan& plan,
                                     const SubPhase& node, int output_fd,
                                     const PhaseJobserver& jobserver) {
  TargetDirs dirs = ctx.work->Target(plan.targets[node.target]);
  sandbox::RunRequest req;
  // Numbered: a failing line of a multi-line phase is named (diagnose.h).
  req.argv = {"/bin/sh", "-c", NumberedScript(node.command)};
  sandbox::MountOp overlay;
  overlay.kind = sandbox::MountKind::kOverlay;
  overlay.source = ctx.source_root;
  overlay.upper = dirs.upper;
  overlay.work = dirs.ovl_work;
  overlay.target = ctx.layout.Source();
  req.mounts.push_back(overlay);
  const std::pair<const std::string*, std::string> binds[] = {{&dirs.build, ctx.layout.Build()},
                                                              {&dirs.image, ctx.layout.Image()},
                                                              {&dirs.tmp, ctx.layout.Tmp()},
                                                              {&dirs.home, ctx.layout.Home()}};
  for (const auto& [host, inside] : binds) {
    sandbox::MountOp b;
    b.kind = sandbox::MountKind::kBind;
    b.source = *host;
    b.target = inside;
    req.mounts.push_back(b);
  }
  // The recipe's addwrite places: private and empty for every sub-phase, so
  // the build tool can write there and the host never sees it.
  for (const auto& a : ctx.recipe->addwrite) {
    sandbox::MountOp t;
    t.kind = sandbox::MountKind::kTmpfs;
    t.target = a.path;
    t.mode = 01777;  // like /tmp: whatever inside id the build runs as
    req.mounts.push_back(t);
  }
  if (!jobserver.fifo.empty()) {
    sandbox::MountOp fifo;
    fifo.kind = sandbox::MountKind::kBind;
    fifo.source = jobserver.fifo;
    fifo.target = kInsideJobserverFifo;
    req.mounts.push_back(fifo);
  }
  if (ctx.distcc) {
    req.distcc_hosts = ctx.distcc->hosts;
    sandbox::MountOp dir;
    dir.kind = sandbox::MountKind::kBind;
    dir.source = ctx.distcc->host_dir;
    dir.target = ctx.layout.DistccDir();
    req.mounts.push_back(dir);
  }
  req.cwd = ctx.layout.Source();
  req.setenv = PhaseEnvironment(ctx, plan, node.target, jobserver.makeflags);
  // The names the policy keeps (LANG, DEB_BUILD_OPTIONS=nocheck...) come
  // from nsbuild's own environment, as for `nsbuild run`.
  req.caller_env = environ;
  if (!ctx.launcher_dir.empty()) AddLauncher(ctx.launcher_dir, jobserver, req);
  req.pass_fds = jobserver.pass_fds;
  req.stdin_fd = ctx.stdin_fd;
  req.stdout_fd = output_fd;
  req.stderr_fd = output_fd;
  // The scheduler enforces timeouts itself (it waits in its poll loop).
  req.timeout_seconds = 0;
  if (ctx.vary) ctx.vary(req);
  return req;
}

}  // namespace nsbuild::builder
