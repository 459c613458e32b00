// One run of sandboxes: the part of `nsbuild build` and `nsbuild verify`
// that runs. A session runs a set of members (a build is a set of one,
// verify's control and experiments a set of several) as one combined plan
// under one scheduler, one job pool, one status printer and one pair of
// stop signals: -j and -l bound every member together, Ctrl-C or a
// fail-fast failure stops every sandbox of every member.
//
// Opened before the members are prepared, so that a Ctrl-C while sources
// are copied stops the run as soon as the scheduler looks; each member then
// brings its own plan and runner (runner.h: the sandboxes, or a fake in
// tests), and Run reports per member which sub-phase failed.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "builder/jobserver.h"
#include "builder/plan.h"
#include "builder/results.h"
#include "builder/runner.h"
#include "builder/scheduler.h"
#include "builder/signals.h"
#include "builder/status_printer.h"

namespace nsbuild::builder {

// The local CPUs, the default share of -j.
int LocalCpus();
// -j when the operator gives none: the local CPUs plus distcc's remote slots.
int DefaultJobs(int remote_slots = 0);

struct SessionOptions {
  int jobs = 1;
  double load_average = 0;  // -l: passed to the scheduler (and by runners to make)
  FailureMode failure_mode = FailureMode::kFinishOthers;
  double timeout_seconds = 0;  // per sub-phase, 0 = none
  bool write_violations_fail = true;
  int verbosity = 0;
  // LOG_DIR (nsbuild's own, fresh) and its fd: logs are LOG_DIR/TARGET-PHASE.log,
  // a named member's LOG_DIR/MEMBER/TARGET-PHASE.log (MEMBER made afresh).
  // No fd: no log files.
  std::string log_dir;
  int log_dir_fd = -1;
  // make >= 4.4's fifo form instead of the pipe: made as DIR/jobserver
  // through dir_fd, owned by the ids the sandboxes' root maps to.
  struct Fifo {
    int dir_fd = -1;
    std::string dir_path;
    std::string inside_path;  // where every sandbox sees its fifo
    uid_t uid = 0;
    gid_t gid = 0;
    // The leases reach make 4.3 as descriptors (its fifo form needs 4.4),
    // while the compiler launcher takes its slots by the fifo's path.
    bool as_descriptors = false;
    // A fifo that cannot be made falls back to a pipe, with a warning
    // (the launcher's fifo is an optimisation; --jobserver-fifo is not).
    bool or_pipe = false;
  };
  std::optional<Fifo> fifo;
  // Where the progress goes; nullptr: stderr's printer for `verbosity`.
  StatusPrinter* printer = nullptr;
  // Called with the scheduler's options and the combined plan (which lives
  // as long as the run) before it starts: the failure diagnosis's hooks
  // (diagnose.h, AddDiagnosis).
  std::function<void(SchedulerOptions&, const Plan&)> decorate;
};

struct SessionMember {
  std::string name;  // "" keeps the targets' names (a set of one); else MEMBER/TARGET
  const Plan* plan = nullptr;
  CommandRunner* runner = nullptr;  // starts the member's own sub-phases
};

struct MemberResult {
  std::string name;
  bool ok = false;
  bool failed = false;        // a sub-phase of its own failed (not just stopped)
  std::string error;          // why not ok, for a person: the sub-phase and its log
  double start = 0, end = 0;  // seconds since the run started
  size_t first_node = 0;      // where its sub-phases start in `SessionResult::plan`
};

struct SessionResult {
  Plan plan;           // every member's sub-phases, one after the other
  RunSummary summary;  // indexed like plan.nodes
  std::vector<MemberResult> members;
  int interrupted_by = 0;  // the signal that stopped the run, 0 if none
  int jobs = 0;
  double started = 0;  // steady-clock seconds at which the scheduler began

  bool AllOk() const;
  // The member to blame: the first whose own sub-phase failed, else the
  // first not ok (stopped by an interrupt or another's failure); nullptr if
  // every member succeeded.
  const MemberResult* Culprit() const;
};

class Session {
 public:
  // Installs the stop signals and creates the job pool and /dev/null.
  static base::Result<std::unique_ptr<Session>> Open(const SessionOptions& options);

  const JobServer& job_server() const { return *jobs_; }
  // A build never reads the terminal: every sandbox's stdin.
  int devnull() const { return devnull_.get(); }
  // The first stop signal caught so far, 0 if none.
  int caught() const { return stop_->caught(); }

  // Runs every member's plan to the end (or the stop); errors are the
  // session's own (a member's log dir), a failed sub-phase is a result.
  // `configure`, when given, adjusts this run's scheduler options last,
  // knowing the combined plan (the critical path's start order and
  // observer, critical_path_run.h).
  base::Result<SessionResult> Run(
      const std::vector<SessionMember>& members,
      const std::function<void(SchedulerOptions&, const Plan&)>& configure = nullptr);

 private:
  explicit Session(const SessionOptions& options) : options_(options) {}
  SessionOptions options_;
  std::unique_ptr<StopSignals> stop_;
  std::unique_ptr<JobServer> jobs_;
  base::UniqueFd devnull_;
};

}  // namespace nsbuild::builder
