// The scheduler: runs a Plan ninja-style in one poll loop. A sub-phase starts
// when its dependencies are done and it holds a jobserver slot; its output is
// read through a pipe into its log (and the status printer); its end is seen through
// the runner's wait fd. Failure, --fail-fast, --keep-going, timeouts and
// interrupts (a readable stop fd) are all decided here.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "builder/jobserver.h"
#include "builder/plan.h"
#include "builder/results.h"
#include "builder/run_observer.h"
#include "builder/runner.h"
#include "builder/status_printer.h"

namespace nsbuild::builder {

enum class FailureMode {
  kFinishOthers,  // default: the failing target stops, the others finish
  kFailFast,      // the first failure stops every running sub-phase
  kKeepGoing,     // the failing target's later phases still run (to see
                  // every failure at once); `all` phases are still skipped
};

struct SchedulerOptions {
  FailureMode failure_mode = FailureMode::kFinishOthers;
  double load_average = 0;     // 0 = no limit; otherwise start nothing new
                               // while the load is above it (one always runs)
  double timeout_seconds = 0;  // per sub-phase, 0 = none
  int stop_fd = -1;            // readable = stop everything (SIGINT/SIGTERM)
  // The log dir (nsbuild's own, created fresh) and its fd: logs are opened
  // beneath it without following any symlink; log_dir names them in
  // messages. -1: no log files.
  std::string log_dir;
  int log_dir_fd = -1;
  // The 1-minute load average; tests replace it. Empty = getloadavg(3).
  std::function<double()> load_probe;
  // A sub-phase that wrote outside its roots fails (the policy's
  // on_violation "fail"), or only carries the record ("warn").
  bool write_violations_fail = true;
  // Failure diagnosis (diagnose.h), empty = none: the first lines of each
  // sub-phase's log, and what a failed sub-phase's log and exit suggest
  // (appended to its NodeResult::diagnosis and to its log).
  std::function<std::string(const SubPhase&)> log_header;
  std::function<void(const SubPhase&, NodeResult&)> diagnose;
  // The order in which ready sub-phases are considered, node ids (highest
  // priority first: critical_path.h's StartOrder). Empty = plan order.
  std::vector<size_t> start_order;
  // Told every turn which sub-phases run (run_observer.h); may be null.
  RunObserver* observer = nullptr;
};

class Scheduler {
 public:
  Scheduler(const Plan& plan, CommandRunner& runner, JobServer& jobs, StatusPrinter& status,
            SchedulerOptions options);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  RunSummary Run();

 private:
  struct Running;
  void StartReady();
  bool Startable(const SubPhase& node) const;
  bool DepSatisfied(const SubPhase& node, size_t dep) const;
  void SkipBlocked();
  bool LoadTooHigh() const;
  bool Start(const SubPhase& node, Token token);
  void PollOnce();
  void ReadOutput(Running& r);
  void Judge(Running& r, NodeResult& res);
  void Finish(size_t index);
  void Fail(const SubPhase& node);
  void StopAll(bool interrupted);
  void CheckTimeouts();
  std::vector<RunningPid> RunningPids() const;
  double Now() const;

  const Plan& plan_;
  CommandRunner& runner_;
  JobServer& jobs_;
  StatusPrinter& status_;
  SchedulerOptions options_;
  RunSummary summary_;
  std::vector<Running> running_;
  std::vector<bool> target_failed_;
  size_t settled_ = 0;  // start failures so far
  bool stopping_ = false;
  double t0_ = 0;
};

}  // namespace nsbuild::builder
