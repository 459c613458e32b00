#include "sandbox/plan.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <map>
#include <set>

#include "sandbox/seccomp_rules.h"
#include "sandbox/user_ns.h"

namespace nsbuild::sandbox {
namespace {

using base::PlainError;
using base::Result;
using base::Status;

// Absolute, no empty/"."/".." components: what the child's walker expects.
Status CheckInsidePath(const std::string& path, const std::string& what) {
  if (path.empty() || path[0] != '/') {
    return PlainError(what + ": '" + path + "' is not an absolute path");
  }
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    std::string comp = path.substr(start, end - start);
    if (comp == "." || comp == ".." || (comp.empty() && end != path.size())) {
      return PlainError(what + ": '" + path + "' must be normalised (no '.', '..' or '//')");
    }
    start = end + 1;
  }
  if (path.size() >= PATH_MAX) return PlainError(what + ": path too long");
  return {};
}

// The canonical host path of a bind source, so the child can open it with
// RESOLVE_NO_SYMLINKS. Missing sources are an error unless optional.
Result<std::optional<std::string>> CanonicalSource(const MountOp& op) {
  if (op.source.empty() || op.source[0] != '/') {
    return PlainError("bind source '" + op.source + "' is not an absolute path");
  }
  char buf[PATH_MAX];
  if (!realpath(op.source.c_str(), buf)) {
    if (errno == ENOENT && op.optional) return std::optional<std::string>();
    return base::ErrnoError("bind source " + op.source);
  }
  return std::optional<std::string>(buf);
}

class Planner {
 public:
  Planner(const Policy& policy, SandboxSpec& spec) : policy_(policy), spec_(spec) {}

  Status Add(MountOp op) {
    NSB_TRY(CheckInsidePath(op.target, "mount target"));
    if (op.kind == MountKind::kBind || op.kind == MountKind::kRoBind) {
      NSB_ASSIGN_OR_RETURN(auto canonical, CanonicalSource(op));
      if (!canonical) return {};
      op.source = *canonical;
    }
    if (op.kind == MountKind::kOverlay) {
      for (std::string* p : {&op.source, &op.upper, &op.work}) {
        MountOp probe{MountKind::kBind, *p, op.target};
        NSB_ASSIGN_OR_RETURN(auto canonical, CanonicalSource(probe));
        *p = canonical.value_or(*p);  // never empty: probe is not optional
      }
    }
    bool writable = op.kind == MountKind::kBind || op.kind == MountKind::kTmpfs ||
                    op.kind == MountKind::kOverlay;
    if (writable && policy_.noexec_writable) op.noexec = true;
    if (op.kind == MountKind::kTmpfs && op.size_bytes == 0) op.size_bytes = policy_.tmpfs_size;
    spec_.mounts.push_back(std::move(op));
    return {};
  }

  Status Mirror(const std::string& path) {
    struct stat st;
    if (lstat(path.c_str(), &st) != 0) return {};  // absent on this host: nothing to mirror
    if (S_ISLNK(st.st_mode)) {
      char text[PATH_MAX];
      ssize_t n = readlink(path.c_str(), text, sizeof text - 1);
      if (n < 0) return base::ErrnoError("readlink " + path);
      text[n] = '\0';
      return Add(MountOp{MountKind::kSymlink, text, path});
    }
    return Add(MountOp{MountKind::kRoBind, path, path, true});
  }

  // A minimal /dev: the harmless character devices, a private devpts, shm.
  Status Dev() {
    NSB_TRY(Add(MountOp{MountKind::kTmpfs, "", "/dev", false, true, false, 1 << 20, 0755}));
    for (const char* d : {"null", "zero", "full", "random", "urandom", "tty"}) {
      std::string p = std::string("/dev/") + d;
      NSB_TRY(Add(MountOp{MountKind::kBind, p, p, false, true, true}));
    }
    NSB_TRY(Add(MountOp{MountKind::kDevpts, "", "/dev/pts"}));
    NSB_TRY(Add(MountOp{MountKind::kSymlink, "pts/ptmx", "/dev/ptmx"}));
    NSB_TRY(Add(
        MountOp{MountKind::kTmpfs, "", "/dev/shm", false, true, false, policy_.tmpfs_size, 01777}));
    const std::pair<const char*, const char*> links[] = {{"/proc/self/fd", "/dev/fd"},
                                                         {"/proc/self/fd/0", "/dev/stdin"},
                                                         {"/proc/self/fd/1", "/dev/stdout"},
                                                         {"/proc/self/fd/2", "/dev/stderr"}};
    for (auto [text, where] : links) NSB_TRY(Add(MountOp{MountKind::kSymlink, text, where}));
    // Nothing may create device nodes' neighbours; /dev/shm stays writable.
    return Add(MountOp{MountKind::kRemountRo, "", "/dev"});
  }

 private:
  const Policy& policy_;
  SandboxSpec& spec_;
};

Status PlanMounts(const Policy& policy, const RunRequest& req, SandboxSpec& spec) {
  Planner plan(policy, spec);
  for (const auto& op : policy.ro_binds) NSB_TRY(plan.Add(op));
  for (const auto& link : policy.mirror_links) NSB_TRY(plan.Mirror(link));
  if (policy.dev) NSB_TRY(plan.Dev());
  if (policy.proc) NSB_TRY(plan.Add(MountOp{MountKind::kProc, "", "/proc"}));
  for (const auto& t : policy.tmpfs) {
    NSB_TRY(plan.Add(MountOp{MountKind::kTmpfs, "", t, false, false, false, 0, 01777}));
  }
  for (const auto& d : policy.dirs) NSB_TRY(plan.Add(MountOp{MountKind::kDir, "", d}));
  for (const auto& op : req.mounts) NSB_TRY(plan.Add(op));
  for (const auto& h : policy.hide) NSB_TRY(plan.Add(MountOp{MountKind::kHide, "", h}));
  return {};
}

std::vector<std::string> PlanEnvironment(const Policy& policy, const RunRequest& req) {
  if (req.keep_env_order) {
    // The caller's order, then the policy's names it did not set.
    std::vector<std::string> out;
    std::set<std::string> seen;
    for (const auto& [k, v] : req.setenv) {
      if (seen.insert(k).second) out.push_back(k + "=" + v);
    }
    for (const auto& [k, v] : policy.env_set) {
      if (seen.insert(k).second) out.push_back(k + "=" + v);
    }
    return out;
  }
  std::map<std::string, std::string> env;
  std::set<std::string> keep(policy.env_keep.begin(), policy.env_keep.end());
  for (const char* const* e = req.caller_env; e && *e; ++e) {
    std::string kv = *e;
    auto eq = kv.find('=');
    if (eq != std::string::npos && keep.count(kv.substr(0, eq)))
      env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& [k, v] : policy.env_set) env[k] = v;
  for (const auto& [k, v] : req.setenv) env[k] = v;
  std::vector<std::string> out;
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

// Raising a hard limit needs CAP_SYS_RESOURCE in the initial namespace, which
// the sandbox never has: a policy's limit is a ceiling, clamped to ours.
std::vector<Rlimit> ClampRlimits(const std::vector<Rlimit>& wanted) {
  std::vector<Rlimit> out;
  for (Rlimit r : wanted) {
    struct rlimit cur;
    if (getrlimit(r.resource, &cur) == 0 && cur.rlim_max != RLIM_INFINITY) {
      r.hard = std::min(r.hard, cur.rlim_max);
      r.soft = std::min(r.soft, r.hard);
    }
    out.push_back(r);
  }
  return out;
}

// A daemon's IPv4 address: numeric as written, or the first a name resolves
// to (once, now, so every connection goes to the same place).
Result<std::string> ResolveDaemon(const std::string& host) {
  addrinfo hints = {};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (int rc = getaddrinfo(host.c_str(), nullptr, &hints, &res); rc != 0) {
    return PlainError("distcc host " + host +
                      ": cannot resolve to an IPv4 address: " + gai_strerror(rc));
  }
  char buf[INET_ADDRSTRLEN] = "";
  inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(res->ai_addr)->sin_addr, buf, sizeof buf);
  freeaddrinfo(res);
  return std::string(buf);
}

// Network "distcc": one inside loopback address per daemon; listen(2)
// denied by seccomp, so a filter the policy switched off is refused rather
// than run with a hole in the promise.
Status PlanDistcc(const Policy& policy, const RunRequest& req, SandboxSpec& spec) {
  if (req.distcc_hosts && req.net && *req.net != NetMode::kDistcc) {
    return PlainError("distcc hosts given together with another network mode");
  }
  const auto& hosts = req.distcc_hosts ? *req.distcc_hosts : policy.distcc_hosts;
  if (hosts.empty()) {
    return PlainError(
        "network distcc: no daemons (give --distcc HOSTS or the policy's distcc_hosts)");
  }
  if (!spec.seccomp.enabled) {
    return PlainError(
        "network distcc: needs the seccomp filter (it refuses listen(2)); the policy disables it");
  }
  spec.seccomp.deny_listen = true;
  for (size_t i = 0; i < hosts.size(); ++i) {
    Forward f;
    f.inside_addr = DistccInsideAddress(i);
    f.inside_port = hosts[i].port;
    NSB_ASSIGN_OR_RETURN(f.daemon_addr, ResolveDaemon(hosts[i].host));
    f.daemon_port = hosts[i].port;
    f.label = hosts[i].host + ":" + std::to_string(hosts[i].port);
    spec.forwards.push_back(std::move(f));
  }
  return {};
}

}  // namespace

Result<SandboxSpec> PlanSandbox(const Policy& policy, const RunRequest& req) {
  if (req.argv.empty()) return PlainError("no command given");
  SandboxSpec spec;
  spec.argv = req.argv;
  NSB_TRY(PlanMounts(policy, req, spec));
  spec.env = PlanEnvironment(policy, req);
  spec.cwd = req.cwd.empty() ? "/" : req.cwd;
  NSB_TRY(CheckInsidePath(spec.cwd, "working directory"));
  spec.hostname = req.hostname.value_or(policy.hostname);
  if (spec.hostname.empty() || spec.hostname.size() > 64) {
    return PlainError("hostname must be 1 to 64 characters");
  }
  spec.domainname = req.domainname.value_or("(none)");
  spec.personality = req.personality;
  spec.cpus = req.cpus;
  spec.net = req.net.value_or(policy.net);
  spec.ids = ResolveIdMapping(req.inside_uid.value_or(policy.inside_uid),
                              req.inside_gid.value_or(policy.inside_gid), policy.host_range);
  NSB_TRY(CheckCoversCommand(spec.ids));
  spec.rlimits = ClampRlimits(policy.rlimits);
  spec.seccomp = policy.seccomp;
  if (req.distcc_hosts) spec.net = NetMode::kDistcc;
  if (spec.net == NetMode::kDistcc) NSB_TRY(PlanDistcc(policy, req, spec));
  spec.umask = req.umask.value_or(policy.umask);
  spec.pass_fds = req.pass_fds;
  spec.stdin_fd = req.stdin_fd;
  spec.stdout_fd = req.stdout_fd;
  spec.stderr_fd = req.stderr_fd;
  spec.timeout_seconds = req.timeout_seconds.value_or(policy.timeout_seconds);
  return spec;
}

}  // namespace nsbuild::sandbox
