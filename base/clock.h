// Monotonic time for durations, timeouts and progress reports: it never
// steps when someone sets the wall clock, so a timeout cannot fire early.
#pragma once

namespace nsbuild::base {

// Seconds on CLOCK_MONOTONIC, from an arbitrary origin: only differences mean
// anything.
double MonotonicSeconds();

// Time since a start point.
class Stopwatch {
 public:
  Stopwatch() : start_(MonotonicSeconds()) {}

  double Seconds() const { return MonotonicSeconds() - start_; }
  // Seconds since the start or the previous lap, and starts the next lap.
  double Lap();
  // For poll(2): milliseconds left until `limit` seconds from the start,
  // rounded up so that poll does not wake before it; 0 once passed; -1 (wait
  // forever) when limit is not positive.
  int PollTimeoutMs(double limit) const;

 private:
  double start_;
};

}  // namespace nsbuild::base
