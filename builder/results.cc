#include "builder/results.h"

namespace nsbuild::builder {

const char* StateName(NodeState state) {
  switch (state) {
    case NodeState::kWaiting:
      return "not-run";
    case NodeState::kRunning:
      return "running";
    case NodeState::kSucceeded:
      return "ok";
    case NodeState::kFailed:
      return "failed";
    case NodeState::kSkipped:
      return "skipped";
    case NodeState::kStopped:
      return "stopped";
  }
  return "?";
}

bool RunSummary::AllSucceeded() const {
  if (interrupted) return false;
  for (const auto& n : nodes) {
    if (n.state != NodeState::kSucceeded) return false;
  }
  return true;
}

size_t RunSummary::WriteViolationCount() const {
  size_t n = 0;
  for (const auto& node : nodes) n += node.writes.ViolationCount();
  return n;
}

}  // namespace nsbuild::builder
