// The scheduler's view of running one sub-phase: an interface, so the
// scheduler is tested with a fake runner and no processes, and the real one
// (sandbox_runner.h) starts a sandbox per sub-phase.
#pragma once

#include <sys/types.h>

#include <memory>

#include "base/result.h"
#include "builder/jobserver.h"
#include "builder/plan.h"
#include "builder/results.h"
#include "sandbox/spec.h"

namespace nsbuild::builder {

// One started command. The destructor stops and reaps it if it still runs,
// so no command outlives the scheduler's record of it.
class RunningCommand {
 public:
  virtual ~RunningCommand() = default;
  // POLLIN once the command is over.
  virtual int wait_fd() const = 0;
  // Called once, after wait_fd() became readable.
  virtual base::Result<sandbox::ExitInfo> Collect() = 0;
  // Stops the command and everything it started, at once.
  virtual void Kill() = 0;
  // The command's first process as the host sees it (the sandbox's PID 1),
  // for counting what runs beneath it; -1 when there is none.
  virtual pid_t pid() const { return -1; }

  // The write watcher, when the command has one: POLLIN on notify_fd() means
  // a watched call waits for HandleNotification(), which answers it and
  // returns false once no process can call any more.
  virtual int notify_fd() const { return -1; }
  virtual bool HandleNotification() { return false; }
  // What the watcher saw; called once, after Collect().
  virtual WriteRecord TakeWrites() { return {}; }
};

class CommandRunner {
 public:
  virtual ~CommandRunner() = default;
  // Starts `node`; its stdout and stderr go to output_fd (the runner does
  // not keep output_fd open after Start returns). `lease` is its own
  // jobserver pipe (or fifo), open until the command has been reaped.
  virtual base::Result<std::unique_ptr<RunningCommand>> Start(const SubPhase& node, int output_fd,
                                                              const Lease& lease) = 0;
};

}  // namespace nsbuild::builder
