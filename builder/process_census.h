// Counts what really runs in the sub-phases, and gives the CPU to the one on
// the critical path.
//
// Tokens only count what asks for them: a ninja 1.11 or a setuptools
// `build -j` beside the pool runs as many compilers as it likes. So the
// census looks at the processes themselves: every process of a sub-phase is
// a descendant of its sandbox's PID 1 (an orphan is reparented to it, the
// init of its pid namespace), and /proc/PID/stat gives each one's parent,
// name and nice value. The peaks (all processes, and compilers: cc1,
// cc1plus, clang, rustc...) go into the report beside the tokens.
//
// Sharing the CPU: with more than one sub-phase running, the processes of
// the one with the highest priority (the longest remaining chain) run at
// nice 0 and the others' at `nice`; the kernel then gives the critical chain
// the CPU whenever the machine is oversubscribed, and costs nothing when it
// is not. Raising a nice value is allowed for one's own processes; lowering
// it back needs CAP_SYS_NICE, so unprivileged a tree once niced stays so.
// Each sandbox is a session of its own, so with scheduler autogroups (the
// kernel's default on Debian) the session's group gets the nice value as
// well: otherwise nice would only rank processes inside one sandbox.
// (cgroup v2 cpu.weight would do the same per sandbox, but sandbox/ creates
// no cgroups: nothing here is delegated.)
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "builder/run_observer.h"

namespace nsbuild::builder {

struct ProcInfo {
  pid_t ppid = 0;
  std::string comm;
  int nice = 0;
};
// Every process /proc shows (`proc` is the mount, "/proc").
std::map<pid_t, ProcInfo> ScanProcesses(const std::string& proc = "/proc");
// `root` and its descendants.
std::vector<pid_t> ProcessTree(const std::map<pid_t, ProcInfo>& all, pid_t root);
// A compiler proper, not its driver: cc1, cc1plus, f951, lto1, clang*, rustc.
bool IsCompiler(const std::string& comm);

class ProcessCensus : public RunObserver {
 public:
  struct Options {
    std::vector<double> priorities;  // per node; empty = no CPU sharing
    int nice = 10;                   // for the sub-phases off the critical path
    double interval_seconds = 0.2;   // a /proc scan costs; not every turn
  };
  explicit ProcessCensus(Options options) : options_(std::move(options)) {}

  void Tick(const std::vector<RunningPid>& running) override;
  void Finish(RunSummary& summary) override;

  int peak_processes() const { return peak_processes_; }
  int peak_compilers() const { return peak_compilers_; }

 private:
  int DesiredNice(size_t node, const std::vector<RunningPid>& running) const;

  Options options_;
  double last_ = -1e9;  // base::MonotonicSeconds() of the last sample
  int peak_processes_ = 0;
  int peak_compilers_ = 0;
};

}  // namespace nsbuild::builder
