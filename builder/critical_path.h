// Critical-path-first scheduling and the bound a run is measured against.
//
// Each sub-phase gets an estimate (its time in the history, else a default
// per phase) and a priority: the longest remaining path through the DAG from
// it to the end, itself included. The scheduler starts the ready sub-phase
// with the highest priority first, so the longest chain is never the one
// left waiting behind shorter work; the running one with the highest
// priority keeps the CPU (process_census.h renices the others).
//
// After a run, the bound says how fast it could have been at all: no
// schedule on N jobs beats max(total CPU / N, the longest chain of
// dependent sub-phases) — the report prints both and the ratio of the wall
// time to the larger.
#pragma once

#include <string>
#include <vector>

#include "builder/history.h"
#include "builder/plan.h"
#include "builder/results.h"

namespace nsbuild::builder {

// Seconds a sub-phase without history is assumed to take: compile is the
// heavy one in the builds nsbuild does, so a chain with more compiling is
// the longer one before anything is known.
double DefaultEstimate(int phase);

struct Estimates {
  std::vector<double> seconds;  // indexed like Plan::nodes
  size_t from_history = 0;      // how many came from the history
};
Estimates Estimate(const Plan& plan, const History& history, const std::string& recipe);

// The longest path (sum of `seconds`) from each node to the end of the DAG.
std::vector<double> Priorities(const Plan& plan, const std::vector<double>& seconds);
// Node ids in the order the scheduler should consider them: highest
// priority first, plan order among equals.
std::vector<size_t> StartOrder(const std::vector<double>& priorities);

struct Bound {
  int jobs = 0;
  double cpu_seconds = 0;     // user + sys of every sub-phase
  double chain_seconds = 0;   // the longest chain, by measured wall times
  std::vector<size_t> chain;  // its node ids, first to last
  double wall_seconds = 0;    // what the run took
  double Seconds() const;     // max(cpu / jobs, chain)
  double Efficiency() const;  // bound / wall (1 = as fast as possible)
};
// From a finished run's measurements.
Bound MeasureBound(const Plan& plan, const RunSummary& summary);
// "bound 12.3s = max(CPU 20.1s / 2 jobs, longest chain 12.3s: a:compile →
// a:install); wall 13.0s, 95% of the bound".
std::string DescribeBound(const Plan& plan, const Bound& bound);

}  // namespace nsbuild::builder
