// The real CommandRunner: every sub-phase in its own sandbox, planned from
// the build's policy and the sub-phase's request (phase_request.h).
#pragma once

#include <set>

#include "builder/phase_request.h"
#include "builder/runner.h"
#include "sandbox/policy.h"

namespace nsbuild::builder {

class SandboxRunner : public CommandRunner {
 public:
  // watch_writes: every sub-phase runs under the write watcher, which
  // denies and records writes outside the sandbox's writable places.
  SandboxRunner(const sandbox::Policy& policy, const BuildContext& ctx, const Plan& plan,
                bool watch_writes = false)
      : policy_(policy), ctx_(ctx), plan_(plan), watch_writes_(watch_writes) {}
  // Capture mode (sandbox/write_capture.h): each watched sub-phase's stray
  // file creations succeed into CAPTURE_ROOT/TARGET-PHASE.
  void set_capture_root(std::string dir) { capture_root_ = std::move(dir); }

  base::Result<std::unique_ptr<RunningCommand>> Start(const SubPhase& node, int output_fd,
                                                      const Lease& lease) override;

 private:
  const sandbox::Policy& policy_;
  const BuildContext& ctx_;
  const Plan& plan_;
  bool watch_writes_;
  std::string capture_root_;
  std::set<size_t> prepared_targets_;
};

// The host uid/gid a sandbox's inside ids map to: who must own the
// directories it writes.
std::pair<uid_t, gid_t> MappedHostIds(const sandbox::SandboxSpec& spec);
// The same for any sandbox of `policy` (its own inside ids), without
// planning one.
base::Result<std::pair<uid_t, gid_t>> MappedHostIds(const sandbox::Policy& policy);

}  // namespace nsbuild::builder
