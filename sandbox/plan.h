// Planning: a policy plus a caller's request become one immutable SandboxSpec
// (every mount a primitive step, the environment final, ids resolved). The
// plan can be printed (--dry-run) and tested without running anything.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "sandbox/policy.h"
#include "sandbox/spec.h"

namespace nsbuild::sandbox {

// What a caller adds on top of its policy (the CLI's flags, the builder's
// per-sub-phase directories).
struct RunRequest {
  std::vector<std::string> argv;
  std::vector<MountOp> mounts;                              // after the policy's view, in order
  std::string cwd;                                          // empty = "/"
  std::vector<std::pair<std::string, std::string>> setenv;  // override everything
  std::optional<NetMode> net;
  // Network "distcc" with these daemons (--distcc); overrides the policy's.
  std::optional<std::vector<DistccHost>> distcc_hosts;
  std::optional<std::string> hostname;
  std::optional<std::string> domainname;
  unsigned long personality = 0;  // see SandboxSpec
  int cpus = 0;
  std::optional<mode_t> umask;  // overrides the policy's
  // Keep setenv's order instead of sorting the environment by name (for
  // reproducibility checks that vary the order).
  bool keep_env_order = false;
  std::optional<uid_t> inside_uid;
  std::optional<gid_t> inside_gid;
  std::vector<int> pass_fds;
  int stdin_fd = -1, stdout_fd = -1, stderr_fd = -1;
  std::optional<double> timeout_seconds;
  // The caller's environment, for the policy's env_keep names.
  const char* const* caller_env = nullptr;
};

// Checks every path (absolute, no "..", sources exist unless optional) and
// resolves bind sources to canonical host paths. Errors name the offending
// path; nothing is touched.
base::Result<SandboxSpec> PlanSandbox(const Policy& policy, const RunRequest& request);

// Human-readable plan: the mount steps and the seccomp rule set (--dry-run).
std::string DescribePlan(const SandboxSpec& spec);

}  // namespace nsbuild::sandbox
