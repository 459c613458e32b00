// Parent side: turns a SandboxSpec into the allocation-free plan the child
// reads (child/plan.h), with the storage it points into (prepared.h).
#include <arpa/inet.h>
#include <fcntl.h>

#include <algorithm>

#include "sandbox/caps.h"
#include "sandbox/landlock.h"
#include "sandbox/prepared.h"
#include "sandbox/seccomp_cache.h"
#include "sandbox/seccomp_rules.h"

namespace nsbuild::sandbox {
namespace {

constexpr const char* kOldRootPrefix = "/oldroot";

// Interns strings; pointers stay valid because the storage is reserved up
// front and never grows past it.
class Interner {
 public:
  explicit Interner(std::vector<std::string>& store, size_t capacity) : store_(store) {
    store_.reserve(capacity);
  }
  const char* operator()(std::string s) {
    store_.push_back(std::move(s));
    return store_.back().c_str();
  }

 private:
  std::vector<std::string>& store_;
};

size_t CountStrings(const SandboxSpec& spec) {
  return spec.argv.size() + spec.env.size() + spec.mounts.size() * 8 + 4;
}

std::string Octal(uint32_t mode) {
  char buf[16];
  snprintf(buf, sizeof buf, "%04o", mode);
  return buf;
}

child::Mount PrepareMount(const MountOp& op, Interner& intern) {
  child::Mount m{};
  m.kind = op.kind;
  m.source = intern(op.source);
  m.target = intern(op.target);
  m.optional = op.optional;
  m.noexec = op.noexec;
  m.allow_devices = op.allow_devices;
  m.size_opt = intern(op.size_bytes ? std::to_string(op.size_bytes) : "");
  m.mode_opt = intern(Octal(op.mode));
  m.mode = op.mode;
  // Overlay layers are named by path at mount time, after pivot_root, when
  // the host tree is under /oldroot.
  m.overlay_lower = intern(op.kind == MountKind::kOverlay ? kOldRootPrefix + op.source : "");
  m.overlay_upper = intern(op.kind == MountKind::kOverlay ? kOldRootPrefix + op.upper : "");
  m.overlay_work = intern(op.kind == MountKind::kOverlay ? kOldRootPrefix + op.work : "");
  return m;
}

// The first n CPUs of the ones we may run on.
base::Result<cpu_set_t> FirstCpus(int n) {
  cpu_set_t allowed, out;
  CPU_ZERO(&out);
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0)
    return base::ErrnoError("sched_getaffinity");
  int taken = 0;
  for (int cpu = 0; cpu < CPU_SETSIZE && taken < n; ++cpu) {
    if (CPU_ISSET(cpu, &allowed)) {
      CPU_SET(cpu, &out);
      ++taken;
    }
  }
  if (taken < n) {
    return base::PlainError("asked for " + std::to_string(n) + " CPUs, only " +
                            std::to_string(taken) + " available");
  }
  return out;
}

// Network "distcc": the inside listen addresses, and the Landlock layer
// where the kernel has one (landlock.h says what each ABI adds).
base::Status PrepareForwards(const SandboxSpec& spec, Prepared& p) {
  if (spec.net != NetMode::kDistcc) return {};
  std::vector<uint16_t> ports;
  for (const Forward& f : spec.forwards) {
    sockaddr_in a = {};
    a.sin_family = AF_INET;
    a.sin_port = htons(f.inside_port);
    if (inet_pton(AF_INET, f.inside_addr.c_str(), &a.sin_addr) != 1) {
      return base::PlainError("forward: not an IPv4 address: " + f.inside_addr);
    }
    p.listen_addrs.push_back(a);
    ports.push_back(f.inside_port);
  }
  NSB_ASSIGN_OR_RETURN(p.landlock_ruleset, DistccLandlockRuleset(ports, LandlockAbi()));
  return {};
}

// The seccomp programs, compiled once per rule set and libseccomp and then
// loaded from the cache (seccomp_cache.h says why that is safe).
base::Status PrepareFilters(const SandboxSpec& spec, Prepared& p) {
  std::string cache = DefaultSeccompCacheDir();
  NSB_ASSIGN_OR_RETURN(FilterInput in, SeccompInput(spec.seccomp));
  NSB_ASSIGN_OR_RETURN(p.seccomp, CachedFilter(in, cache));
  if (spec.watch_writes) {
    NSB_ASSIGN_OR_RETURN(FilterInput watch, WriteWatchInput());
    NSB_ASSIGN_OR_RETURN(p.watch_filter, CachedFilter(watch, cache));
  }
  return {};
}

// Points the plan into p's storage (done last, once nothing grows).
base::Status LinkPlan(Prepared& p) {
  // sock_fprog counts instructions in an unsigned short; the kernel takes
  // at most BPF_MAXINSNS anyway.
  if (p.seccomp.size() > BPF_MAXINSNS || p.watch_filter.size() > BPF_MAXINSNS) {
    return base::PlainError("seccomp program longer than BPF_MAXINSNS");
  }
  child::Plan& c = p.plan;
  c.argv = p.argv.data();
  c.envp = p.envp.data();
  c.mounts = p.mounts.data();
  c.mount_count = static_cast<int>(p.mounts.size());
  c.source_fds = p.source_fds.data();
  c.seccomp = {static_cast<unsigned short>(p.seccomp.size()), p.seccomp.data()};
  c.watch_filter = {static_cast<unsigned short>(p.watch_filter.size()), p.watch_filter.data()};
  c.keep_fds = p.keep_fds.data();
  c.keep_count = static_cast<int>(p.keep_fds.size());
  c.rlimits = p.rlimits.data();
  c.rlimit_count = static_cast<int>(p.rlimits.size());
  c.listen_addrs = p.listen_addrs.data();
  c.listen_count = static_cast<int>(p.listen_addrs.size());
  c.landlock_fd = p.landlock_ruleset ? p.landlock_ruleset.get() : -1;
  c.init_stack = p.init_stack.get();
  c.command_stack = p.command_stack.get();
  c.stack_size = Prepared::kStackSize;
  c.sync_read = c.error_write = c.status_write = c.notify_sock = c.listen_sock = -1;
  return {};
}

}  // namespace

base::Result<Prepared> Prepare(const SandboxSpec& spec) {
  if (spec.argv.empty()) return base::PlainError("no command to run");
  Prepared p;
  child::Plan& c = p.plan;
  Interner intern(p.strings, CountStrings(spec));
  for (const auto& a : spec.argv) p.argv.push_back(const_cast<char*>(intern(a)));
  p.argv.push_back(nullptr);
  for (const auto& e : spec.env) p.envp.push_back(const_cast<char*>(intern(e)));
  p.envp.push_back(nullptr);
  for (const auto& op : spec.mounts) p.mounts.push_back(PrepareMount(op, intern));
  p.source_fds.assign(p.mounts.size(), -1);
  NSB_TRY(PrepareFilters(spec, p));
  p.keep_fds = spec.pass_fds;
  std::sort(p.keep_fds.begin(), p.keep_fds.end());
  if (p.keep_fds.size() > 32) return base::PlainError("too many fds to pass into the sandbox");
  for (int fd : p.keep_fds) {
    if (fd < 3) return base::PlainError("pass_fds may not name stdin/stdout/stderr");
    if (fcntl(fd, F_GETFD) < 0) return base::ErrnoError("fd " + std::to_string(fd) + " to pass");
  }
  for (const Rlimit& r : spec.rlimits) p.rlimits.push_back({r.resource, r.soft, r.hard});
  c.hostname = intern(spec.hostname);
  c.domainname = intern(spec.domainname);
  c.personality = spec.personality;
  if (spec.cpus > 0) {
    NSB_ASSIGN_OR_RETURN(c.affinity, FirstCpus(spec.cpus));
    c.set_affinity = true;
  }
  c.cwd = intern(spec.cwd.empty() ? "/" : spec.cwd);
  c.loopback = spec.net == NetMode::kLoopback || spec.net == NetMode::kDistcc;
  NSB_TRY(PrepareForwards(spec, p));
  c.uid = spec.ids.inside_uid;
  c.gid = spec.ids.inside_gid;
  // Root's supplementary groups go; a user's setgroups is denied anyway.
  c.drop_groups = !spec.ids.CallerOwnsIt();
  c.umask = spec.umask;
  c.stdin_fd = spec.stdin_fd;
  c.stdout_fd = spec.stdout_fd;
  c.stderr_fd = spec.stderr_fd;
  c.cap_last = CapLastCap();
  // Not zeroed: never touched by the parent.
  p.init_stack.reset(new char[Prepared::kStackSize]);
  p.command_stack.reset(new char[Prepared::kStackSize]);
  NSB_TRY(LinkPlan(p));
  return p;
}

}  // namespace nsbuild::sandbox
