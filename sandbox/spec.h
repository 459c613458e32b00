// The sandbox's input and output types. A SandboxSpec says everything about
// one isolated command and never changes once built; ExitInfo is what came
// back. The sandbox knows nothing of recipes, implementations or merging.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sandbox/child/plan.h"
#include "sandbox/child/report.h"

namespace nsbuild::sandbox {

// One filesystem operation of the new root, executed in order (the kinds
// are listed in child/plan.h, where the child executes them).
using MountKind = child::MountKind;

struct MountOp {
  MountKind kind = MountKind::kRoBind;
  std::string source;     // absolute host path; symlink text for kSymlink
  std::string target;     // absolute path inside the sandbox
  bool optional = false;  // a missing source is skipped, not an error
  bool noexec = false;
  bool allow_devices = false;  // binds of device nodes under /dev only
  uint64_t size_bytes = 0;     // tmpfs size limit, 0 = kernel default
  uint32_t mode = 0755;        // tmpfs root / directory mode
  std::string upper;           // kOverlay: host directory that receives the writes
  std::string work;            // kOverlay: host work directory, same filesystem as upper
};

enum class NetMode {
  kNone,      // empty network namespace, not even lo up
  kLoopback,  // private namespace with lo up (the default)
  kHost,      // host network: only for policies that say so explicitly
  kDistcc,    // loopback, plus forwarded listeners for the listed daemons only
};

// Network "distcc": a listening TCP socket at inside_addr:inside_port in the
// sandbox's own network namespace; nsbuild accepts on it, outside, and
// connects each connection to daemon_addr:daemon_port and nowhere else.
struct Forward {
  std::string inside_addr;  // 127.0.0.2, 127.0.0.3, ...
  uint16_t inside_port = 0;
  std::string daemon_addr;  // numeric IPv4, resolved when planning
  uint16_t daemon_port = 0;
  std::string label;  // the host as the user wrote it, for messages
};

// How ids inside map to the host. Run by root, a whole range maps onto
// unprivileged host ids; run by a user, only that user's own ids. Resolved
// once from the caller's credentials (user_ns.h) and carried: nothing
// downstream asks geteuid() or guesses from the range's size again.
struct IdMapping {
  uid_t inside_uid = 0;  // what the command sees
  gid_t inside_gid = 0;
  uid_t host_uid_base = 0;  // first host uid of the range
  gid_t host_gid_base = 0;
  uint32_t count = 1;       // size of the range; 1 = single-id map
  bool caller_owns = true;  // the host ids are the caller's own (not root)

  // A range of ids, mapped from inside 0 up; otherwise one id, the command's.
  bool IsRange() const { return count > 1; }
  // The host id behind inside id `id` (which the mapping must cover).
  uid_t HostUid(uid_t id) const { return IsRange() ? host_uid_base + id : host_uid_base; }
  gid_t HostGid(gid_t id) const { return IsRange() ? host_gid_base + id : host_gid_base; }
  // Who must own what the command writes to: the host ids of its own ids.
  uid_t CommandHostUid() const { return HostUid(inside_uid); }
  gid_t CommandHostGid() const { return HostGid(inside_gid); }
  // Whether the command's ids lie in the mapping (a single-id map maps
  // exactly the command's ids, so it always covers them).
  bool CoversCommand() const { return !IsRange() || (inside_uid < count && inside_gid < count); }
  // The caller owns the host ids (an unprivileged caller mapping itself):
  // it may write the maps only after denying setgroups, and its /proc
  // files must stay its own. Root maps a range it does not own.
  bool CallerOwnsIt() const { return caller_owns; }
};

struct Rlimit {
  int resource = 0;  // RLIMIT_*
  rlim_t soft = RLIM_INFINITY;
  rlim_t hard = RLIM_INFINITY;
};

// Named groups of syscall rules (see seccomp_rules.h for the table).
struct SeccompSpec {
  bool enabled = true;
  std::vector<std::string> deny_groups;  // empty + enabled = every group
  bool kill_foreign_arch = true;         // x32, i386 and others die
  // listen(2) fails with EPERM (network "distcc": nothing in the sandbox
  // may accept connections). Not a group, so "all" does not imply it.
  bool deny_listen = false;
};

struct SandboxSpec {
  std::vector<std::string> argv;  // argv[0] without '/' is searched in env PATH
  std::vector<std::string> env;   // the complete environment, "K=V"
  std::vector<MountOp> mounts;
  std::string cwd = "/";
  std::string hostname = "nsbuild";
  std::string domainname = "(none)";
  NetMode net = NetMode::kLoopback;
  std::vector<Forward> forwards;  // net == kDistcc only
  IdMapping ids;
  std::vector<Rlimit> rlimits;
  SeccompSpec seccomp;
  mode_t umask = 022;
  // Descriptors handed into the sandbox at the same numbers (a jobserver's).
  std::vector<int> pass_fds;
  // -1 = inherit the caller's; otherwise dup2'ed onto 0/1/2.
  int stdin_fd = -1;
  int stdout_fd = -1;
  int stderr_fd = -1;
  // 0 = none. On expiry the whole sandbox is killed.
  double timeout_seconds = 0;
  // Report writes outside the writable places through seccomp user
  // notification (write_watch.h); Sandbox::notify_fd() then delivers them.
  bool watch_writes = false;
  // Execution domain for the command (personality(2) flags such as
  // ADDR_NO_RANDOMIZE or UNAME26); 0 leaves the default.
  unsigned long personality = 0;
  // Run on the first N CPUs nsbuild may use (sched affinity); 0 = all.
  int cpus = 0;
};

// The setup step that failed, reported by the child over a pipe; every
// step has its own label (child/report.h lists them in order).
using Step = child::Step;
const char* StepName(Step step);

struct SetupFailure {
  Step step = Step::kNone;
  int errnum = 0;
  std::string detail;  // the path or argument involved
  std::string Message() const;
};

struct ExitInfo {
  pid_t host_pid = 0;  // host pid of the sandbox's PID 1
  bool signaled = false;
  int code = 0;    // exit code when !signaled
  int signal = 0;  // terminating signal when signaled
  bool timed_out = false;
  double wall_seconds = 0;
  double user_seconds = 0;
  double sys_seconds = 0;
  long max_rss_kib = 0;
  std::optional<SetupFailure> setup_failure;
  // Network "distcc": connections forwarded to each daemon (spec.forwards
  // order), and connections accepted whose daemon could not be reached.
  std::vector<uint64_t> forwarded;
  uint64_t forward_failures = 0;

  // The shell convention: code, 128+signal, 125 setup failure,
  // 126 found but not executable, 127 command not found.
  int ExitStatus() const;
};

}  // namespace nsbuild::sandbox
