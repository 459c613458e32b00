// What a run produced, per sub-phase: the scheduler fills it, the status
// printer, the report and the trace read it. Plain data, no behaviour.
#pragma once

#include <string>
#include <vector>

#include "sandbox/spec.h"
#include "sandbox/write_watch.h"

namespace nsbuild::builder {

enum class NodeState {
  kWaiting,  // never became ready (run ended first)
  kRunning,
  kSucceeded,
  kFailed,   // ran and exited non-zero, or could not start
  kSkipped,  // a dependency failed
  kStopped,  // killed by --fail-fast or an interrupt
};
const char* StateName(NodeState state);

// What the write watcher saw during one sub-phase.
struct WriteRecord {
  bool watched = false;
  uint64_t notifications = 0;                       // calls the kernel handed to the watcher
  std::vector<sandbox::WriteViolation> violations;  // denied and recorded
  uint64_t violations_not_kept = 0;                 // denied and counted past the watcher's bound
  std::string capture_dir;                          // capture mode: where the captured writes are

  uint64_t ViolationCount() const { return violations.size() + violations_not_kept; }
};

struct NodeResult {
  NodeState state = NodeState::kWaiting;
  sandbox::ExitInfo exit;
  double start = 0, end = 0;  // seconds since the run started
  std::string log_path;
  std::string error;  // why it failed, in one line
  // A failed sub-phase: the line that failed, hints (diagnose.h), one a line.
  std::vector<std::string> diagnosis;
  bool timed_out = false;
  WriteRecord writes;
};

struct RunSummary {
  std::vector<NodeResult> nodes;  // indexed like Plan::nodes
  bool interrupted = false;
  bool fail_fast_stopped = false;
  double wall_seconds = 0;
  int jobs = 0;
  int peak_tokens_in_use = 0;
  int tokens_recovered = 0;  // came back with leases of killed makes
  // What really ran at once, counted in the sub-phases' process trees
  // (process_census.h), whatever the tokens say; -1 = not counted.
  int peak_processes = -1;
  int peak_compilers = -1;

  size_t WriteViolationCount() const;

  bool AllSucceeded() const;
};

}  // namespace nsbuild::builder
