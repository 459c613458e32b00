// What the scheduler tells about its running sub-phases on every turn of its
// loop, for whoever watches their processes (process_census.h counts them
// and shares the CPU by priority). An interface, so the scheduler needs no
// /proc and its tests need no processes.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <vector>

#include "builder/results.h"

namespace nsbuild::builder {

struct RunningPid {
  size_t node = 0;
  pid_t pid = -1;  // the sub-phase's first process; -1 when unknown
};

class RunObserver {
 public:
  virtual ~RunObserver() = default;
  virtual void Tick(const std::vector<RunningPid>& running) = 0;
  // Once, at the end: what was observed goes into the summary.
  virtual void Finish(RunSummary& summary) = 0;
};

}  // namespace nsbuild::builder
