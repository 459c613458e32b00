// The spec turned into plain data the child can use without allocating:
// C strings, fixed arrays and the compiled seccomp program. Built by the
// parent before clone; the child gets its own copy-on-write view of it.
#pragma once

#include <linux/filter.h>
#include <netinet/in.h>
#include <sched.h>

#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "sandbox/spec.h"

namespace nsbuild::sandbox {

struct PreparedMount {
  MountKind kind;
  const char* source;  // host path, or symlink text
  const char* target;  // inside path
  bool optional;
  bool noexec;
  bool allow_devices;
  const char* size_opt;  // "" or a byte count, for tmpfs fsconfig
  const char* mode_opt;  // octal text, for tmpfs/dir
  uint32_t mode;
  const char* overlay_lower;  // "/oldroot"-prefixed host paths (after pivot)
  const char* overlay_upper;
  const char* overlay_work;
};

// The record the child writes on a failed setup step.
struct FailureRecord {
  int32_t step;
  int32_t errnum;
  char detail[480];
};

struct Prepared {
  // Owned storage the pointers below point into (never resized after Build).
  std::vector<std::string> strings;
  std::vector<char*> argv;
  std::vector<char*> envp;
  std::vector<PreparedMount> mounts;
  std::vector<int> source_fds;  // one per mount, filled by the child
  std::vector<sock_filter> seccomp;
  std::vector<sock_filter> watch_filter;  // empty unless writes are watched
  std::vector<int> keep_fds;  // sorted: fds the command may inherit (pass_fds)
  std::vector<Rlimit> rlimits;

  const char* hostname = "";
  const char* domainname = "";
  unsigned long personality = 0;
  bool set_affinity = false;
  cpu_set_t affinity;
  const char* cwd = "/";
  NetMode net = NetMode::kLoopback;
  // Network "distcc": where PID 1 listens (spec.forwards order).
  std::vector<sockaddr_in> listen_addrs;
  // The Landlock ruleset the command enforces on itself (-1: none). The
  // parent owns it; the child's copy of the fd table has its own.
  base::UniqueFd landlock_ruleset;
  int landlock_fd = -1;
  uid_t uid = 0;
  gid_t gid = 0;
  bool drop_groups = false;  // root caller: setgroups(0) is allowed and done
  mode_t umask = 022;
  int stdin_fd = -1, stdout_fd = -1, stderr_fd = -1;
  int devnull_fd = -1;  // opened by the child, for hidden files

  int cap_last = 0;  // highest capability number, read by the parent

  // Stacks for the two clones that share nsbuild's memory: PID 1's (which
  // lives as long as the sandbox) and the command's vfork-style start.
  // Untouched until used, so allocating them costs no page faults.
  static constexpr size_t kStackSize = 256 * 1024;
  std::unique_ptr<char[]> init_stack;
  std::unique_ptr<char[]> command_stack;

  // Pipes, set by Start().
  int sync_read = -1;
  int error_write = -1;
  int status_write = -1;
  int notify_sock = -1;  // the command sends its seccomp listener fd here
  int listen_sock = -1;  // PID 1 sends the forwarding listeners here
};

base::Result<Prepared> Prepare(const SandboxSpec& spec);

}  // namespace nsbuild::sandbox
