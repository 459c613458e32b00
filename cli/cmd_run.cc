// nsbuild run: one command in a sandbox, the policy's view plus the flags.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>

#include "base/escape.h"
#include "base/json_reader.h"
#include "base/split_arg.h"
#include "builder/policy_file.h"
#include "builder/report.h"
#include "cli/commands.h"
#include "sandbox/plan.h"
#include "sandbox/supervise.h"
#include "sandbox/write_capture.h"
#include "sandbox/write_watch.h"

extern char** environ;

namespace nsbuild::cli {

using builder::LoadPolicyDocument;
using builder::SandboxPolicyOf;
using builder::ViolationsJson;
namespace {

struct RunOptions {
  std::string policy = "default";
  std::vector<std::string> binds, ro_binds, tmpfs, setenv;
  std::string chdir, net, hostname, json_status, distcc;
  int64_t uid = -1, gid = -1;
  double timeout = 0;
  bool dry_run = false;
  bool report_writes = false;
  std::string capture_writes;  // capture dir; implies report_writes
  bool no_aslr = false;
  int cpus = 0;
  std::string domainname;
  std::vector<std::string> command;
};

// SRC[:DST] → a bind; DST defaults to SRC. `\:` is a ':' of a path.
base::Result<sandbox::MountOp> ParseBind(const std::string& arg, sandbox::MountKind kind,
                                         const char* flag) {
  sandbox::MountOp op;
  op.kind = kind;
  auto [src, dst] = base::SplitUnescaped(arg, ':');
  op.source = src;
  op.target = dst ? *dst : src;
  if (op.source.empty() || op.source[0] != '/') {
    return base::PlainError(std::string(flag) + " " + arg + ": '" + op.source +
                            "' is not an absolute path");
  }
  return op;
}

base::Result<sandbox::RunRequest> BuildRequest(const RunOptions& o) {
  sandbox::RunRequest req;
  req.argv = o.command;
  req.caller_env = environ;
  for (const auto& b : o.binds) {
    NSB_ASSIGN_OR_RETURN(auto op, ParseBind(b, sandbox::MountKind::kBind, "--bind"));
    req.mounts.push_back(op);
  }
  for (const auto& b : o.ro_binds) {
    NSB_ASSIGN_OR_RETURN(auto op, ParseBind(b, sandbox::MountKind::kRoBind, "--ro-bind"));
    req.mounts.push_back(op);
  }
  for (const auto& t : o.tmpfs) {
    req.mounts.push_back(sandbox::MountOp{sandbox::MountKind::kTmpfs, "", t});
  }
  for (const auto& kv : o.setenv) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      return base::PlainError("--setenv " + kv + ": expected NAME=VALUE");
    }
    req.setenv.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
  }
  req.cwd = o.chdir;
  if (o.net == "none") req.net = sandbox::NetMode::kNone;
  if (o.net == "loopback") req.net = sandbox::NetMode::kLoopback;
  if (!o.distcc.empty()) {
    if (!o.net.empty())
      return base::PlainError("--distcc and --net " + o.net + " exclude each other");
    NSB_ASSIGN_OR_RETURN(req.distcc_hosts, sandbox::ParseDistccHosts(o.distcc, "--distcc"));
  }
  if (!o.hostname.empty()) req.hostname = o.hostname;
  if (!o.domainname.empty()) req.domainname = o.domainname;
  if (o.no_aslr) req.personality = 0x0040000;  // ADDR_NO_RANDOMIZE
  req.cpus = o.cpus;
  if (o.uid >= 0) req.inside_uid = static_cast<uid_t>(o.uid);
  if (o.gid >= 0) req.inside_gid = static_cast<gid_t>(o.gid);
  if (o.timeout > 0) req.timeout_seconds = o.timeout;
  return req;
}

nlohmann::json StatusJson(const sandbox::SandboxSpec& spec, const sandbox::ExitInfo& info) {
  nlohmann::json ns = {"user", "mnt", "pid", "ipc", "uts", "cgroup"};
  if (spec.net != sandbox::NetMode::kHost) ns.push_back("net");
  nlohmann::json j = {
      {"pid", info.host_pid},
      {"namespaces", ns},
      {"exit_status", info.ExitStatus()},
      {"signaled", info.signaled},
      {"timed_out", info.timed_out},
      {"wall_seconds", info.wall_seconds},
      {"user_seconds", info.user_seconds},
      {"sys_seconds", info.sys_seconds},
      {"max_rss_kib", info.max_rss_kib},
  };
  if (info.signaled) {
    j["signal"] = info.signal;
  } else {
    j["exit_code"] = info.code;
  }
  if (spec.net == sandbox::NetMode::kDistcc) {
    nlohmann::json fw = nlohmann::json::array();
    for (size_t i = 0; i < spec.forwards.size(); ++i) {
      const auto& f = spec.forwards[i];
      fw.push_back({{"inside", f.inside_addr + ":" + std::to_string(f.inside_port)},
                    {"daemon", f.daemon_addr + ":" + std::to_string(f.daemon_port)},
                    {"connections", i < info.forwarded.size() ? info.forwarded[i] : 0}});
    }
    j["forwards"] = fw;
    j["forward_failures"] = info.forward_failures;
  }
  if (info.setup_failure) {
    j["setup_failure"] = {{"step", sandbox::StepName(info.setup_failure->step)},
                          {"errno", info.setup_failure->errnum},
                          {"detail", info.setup_failure->detail}};
  }
  return j;
}

// Messages may name what the sandbox chose (a captured file's path): escaped.
int Fail(int status, const std::string& message) {
  std::fprintf(stderr, "nsbuild run: %s\n", base::EscapeLine(message).c_str());
  return status;
}

int Execute(const RunOptions& o) {
  if (o.command.empty())
    return Fail(kExitUsage, "no command given (nsbuild run [options] -- CMD ARGS...)");
  auto doc = LoadPolicyDocument(o.policy);
  if (!doc) return Fail(kExitUsage, doc.error().Message());
  auto policy = SandboxPolicyOf(*doc);
  if (!policy) return Fail(kExitUsage, policy.error().Message());
  auto req = BuildRequest(o);
  if (!req) return Fail(kExitUsage, req.error().Message());
  auto spec = sandbox::PlanSandbox(*policy, *req);
  if (!spec) return Fail(kExitUsage, spec.error().Message());
  spec->watch_writes = o.report_writes;
  if (o.dry_run) {
    std::printf("policy: %s\n%s", doc->path.c_str(), sandbox::DescribePlan(*spec).c_str());
    return kExitOk;
  }
  sandbox::WriteWatcher watcher(sandbox::WritableRoots(*spec));
  std::optional<sandbox::WriteCapture> capture;
  if (!o.capture_writes.empty()) {
    auto c = sandbox::WriteCapture::Open(o.capture_writes, policy->tmpfs_size);
    if (!c) return Fail(kExitUsage, "--capture-writes: " + c.error().Message());
    capture.emplace(std::move(c).value());
    watcher.set_capture(&*capture);
  }
  auto info = sandbox::RunInForeground(*spec, o.report_writes ? &watcher : nullptr);
  if (!info) return Fail(kExitSetup, info.error().Message());
  // The sandbox is gone: its captures can be copied out.
  if (capture) {
    if (auto st = capture->Finish(); !st)
      Fail(kExitFailure, "--capture-writes: " + st.error().Message());
  }
  if (o.report_writes) {
    std::fputs(sandbox::FormatViolations(watcher.violations(), "writes outside the writable paths:",
                                         watcher.violations_not_kept())
                   .c_str(),
               stderr);
    if (capture && !capture->captured().empty()) {
      std::fprintf(stderr, "nsbuild run: %zu captured write(s) are in %s\n",
                   capture->captured().size(), base::EscapeLine(capture->dir()).c_str());
    }
  }
  if (!o.json_status.empty()) {
    std::ofstream out(o.json_status);
    auto j = StatusJson(*spec, *info);
    if (o.report_writes) {
      j["write_notifications"] = watcher.notifications();
      j["write_violations"] = ViolationsJson(watcher.violations());
      j["write_violations_not_kept"] = watcher.violations_not_kept();
      if (capture) j["capture_dir"] = capture->dir();
    }
    out << base::DumpJson(j, 2) << "\n";
    if (!out) return Fail(kExitFailure, "cannot write " + o.json_status);
  }
  if (info->setup_failure) Fail(info->ExitStatus(), info->setup_failure->Message());
  if (info->timed_out) Fail(info->ExitStatus(), "timed out; the sandbox was killed");
  return info->ExitStatus();
}

}  // namespace

void DefineRun(CLI::App& cmd, CommandContext& ctx) {
  auto opts = std::make_shared<RunOptions>();
  CLI::App* run = &cmd;
  run->footer(
      "The command runs in new user, mount, pid, ipc, uts, cgroup and network namespaces,\n"
      "on a fresh read-only root holding only the policy's view plus the --bind/--ro-bind/\n"
      "--tmpfs paths, with no capabilities, no_new_privs and the policy's seccomp rules.\n"
      "Run by root it maps to an unprivileged uid range, never host root.\n\n"
      "Examples:\n"
      "  nsbuild run -- id\n"
      "  nsbuild run --bind $PWD:/src --chdir /src -- make\n"
      "  nsbuild run --policy strict --dry-run -- sh\n"
      "  nsbuild run --distcc '10.0.0.5/8 10.0.0.6:3633' --setenv DISTCC_HOSTS=127.0.0.2/8 -- "
      "...\n\n"
      "--distcc HOSTS (network \"distcc\"): the sandbox keeps its private loopback-only\n"
      "network; the i-th daemon of HOSTS (distcc syntax ADDR[:PORT][/LIMIT], port 3632 by\n"
      "default) appears inside as 127.0.0.(i+2):PORT, and nsbuild forwards connections\n"
      "made there to that daemon and nowhere else. listen(2) fails inside; with Landlock\n"
      "(see nsbuild doctor) TCP connects to other ports and abstract sockets are refused too.\n\n"
      "Exit status: the command's own (128+N if killed by signal N); 2 bad arguments or\n"
      "policy; 125 sandbox setup failed; 126 command not executable; 127 not found.");
  run->add_option("--policy", opts->policy, "Policy name (default, strict, ...) or JSON file")
      ->capture_default_str();
  run->add_option("--bind", opts->binds,
                  "Bind SRC (writable) at DST inside; SRC[:DST], \\: for a ':' in a path")
      ->allow_extra_args(false);
  run->add_option("--ro-bind", opts->ro_binds,
                  "Bind SRC read-only at DST inside; SRC[:DST], \\: for a ':' in a path")
      ->allow_extra_args(false);
  run->add_option("--tmpfs", opts->tmpfs, "Mount a fresh tmpfs at DST")->allow_extra_args(false);
  run->add_option("--chdir", opts->chdir, "Working directory inside (default /)");
  run->add_option("--setenv", opts->setenv, "Set NAME=VALUE in the command's environment")
      ->allow_extra_args(false);
  run->add_option("--net", opts->net, "Network: none (no interfaces) or loopback (lo only)")
      ->check(CLI::IsMember({"none", "loopback"}));
  run->add_option("--distcc", opts->distcc,
                  "Network distcc: reach only these distcc daemons, at 127.0.0.2.. inside")
      ->type_name("HOSTS");
  run->add_option("--hostname", opts->hostname, "Hostname inside");
  run->add_option("--domainname", opts->domainname, "NIS domain name inside (default \"(none)\")");
  run->add_option("--cpus", opts->cpus, "Run on the first N CPUs only (affinity)")
      ->check(CLI::PositiveNumber);
  run->add_flag("--no-aslr", opts->no_aslr, "Disable address space randomisation for the command");
  run->add_option("--uid", opts->uid, "uid the command runs as inside");
  run->add_option("--gid", opts->gid, "gid the command runs as inside");
  run->add_option("--timeout", opts->timeout, "Kill the sandbox after SECONDS");
  run->add_option("--json-status", opts->json_status,
                  "Write pid, namespaces, exit status, times and max RSS as JSON to FILE");
  run->add_flag("--dry-run", opts->dry_run, "Print the mount plan and seccomp rules; run nothing");
  run->add_flag("--report-writes", opts->report_writes,
                "Deny (EACCES) and report every write attempt outside the writable paths");
  run->add_option("--capture-writes", opts->capture_writes,
                  "Like --report-writes, but a stray file creation succeeds into DIR\n"
                  "(at the same path below it) instead of failing; the host is never written.\n"
                  "DIR must be absent or empty; the capture is limited to the policy's tmpfs size");
  run->add_option("command", opts->command, "The command and its arguments (after --)");
  run->prefix_command();
  run->callback([opts, run, &ctx] {
    if (!opts->capture_writes.empty()) opts->report_writes = true;
    auto rest = run->remaining();
    // The "--" that ends nsbuild's options is not part of the command.
    if (!rest.empty() && rest.front() == "--") rest.erase(rest.begin());
    for (const auto& extra : rest) opts->command.push_back(extra);
    ctx.exit_status = Execute(*opts);
  });
}

}  // namespace nsbuild::cli
