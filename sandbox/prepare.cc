// Parent side: turns a SandboxSpec into the allocation-free Prepared data.
#include <arpa/inet.h>
#include <fcntl.h>

#include <algorithm>

#include "sandbox/landlock.h"
#include "sandbox/prepared.h"
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

PreparedMount PrepareMount(const MountOp& op, Interner& intern) {
  PreparedMount m{};
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
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return base::ErrnoError("sched_getaffinity");
  int taken = 0;
  for (int cpu = 0; cpu < CPU_SETSIZE && taken < n; ++cpu) {
    if (CPU_ISSET(cpu, &allowed)) {
      CPU_SET(cpu, &out);
      ++taken;
    }
  }
  if (taken < n) {
    return base::PlainError("asked for " + std::to_string(n) + " CPUs, only " + std::to_string(taken) +
                            " available");
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
  p.landlock_fd = p.landlock_ruleset.get();
  return {};
}

}  // namespace

base::Result<Prepared> Prepare(const SandboxSpec& spec) {
  if (spec.argv.empty()) return base::PlainError("no command to run");
  Prepared p;
  Interner intern(p.strings, CountStrings(spec));
  for (const auto& a : spec.argv) p.argv.push_back(const_cast<char*>(intern(a)));
  p.argv.push_back(nullptr);
  for (const auto& e : spec.env) p.envp.push_back(const_cast<char*>(intern(e)));
  p.envp.push_back(nullptr);
  for (const auto& op : spec.mounts) p.mounts.push_back(PrepareMount(op, intern));
  p.source_fds.assign(p.mounts.size(), -1);
  NSB_ASSIGN_OR_RETURN(p.seccomp, CompileSeccomp(spec.seccomp));
  if (spec.watch_writes) {
    NSB_ASSIGN_OR_RETURN(p.watch_filter, CompileWriteWatch());
  }
  p.keep_fds = spec.pass_fds;
  std::sort(p.keep_fds.begin(), p.keep_fds.end());
  if (p.keep_fds.size() > 32) return base::PlainError("too many fds to pass into the sandbox");
  for (int fd : p.keep_fds) {
    if (fd < 3) return base::PlainError("pass_fds may not name stdin/stdout/stderr");
    if (fcntl(fd, F_GETFD) < 0) return base::ErrnoError("fd " + std::to_string(fd) + " to pass");
  }
  p.rlimits = spec.rlimits;
  p.hostname = intern(spec.hostname);
  p.domainname = intern(spec.domainname);
  p.personality = spec.personality;
  if (spec.cpus > 0) {
    NSB_ASSIGN_OR_RETURN(p.affinity, FirstCpus(spec.cpus));
    p.set_affinity = true;
  }
  p.cwd = intern(spec.cwd.empty() ? "/" : spec.cwd);
  p.net = spec.net;
  NSB_TRY(PrepareForwards(spec, p));
  p.uid = spec.ids.inside_uid;
  p.gid = spec.ids.inside_gid;
  p.drop_groups = spec.ids.count > 1;
  p.umask = spec.umask;
  p.stdin_fd = spec.stdin_fd;
  p.stdout_fd = spec.stdout_fd;
  p.stderr_fd = spec.stderr_fd;
  // Not zeroed: never touched by the parent.
  p.init_stack.reset(new char[Prepared::kStackSize]);
  p.command_stack.reset(new char[Prepared::kStackSize]);
  return p;
}

}  // namespace nsbuild::sandbox
