#include "base/clock.h"

#include <time.h>

#include <algorithm>
#include <cmath>

namespace nsbuild::base {

double MonotonicSeconds() {
  timespec ts = {};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

double Stopwatch::Lap() {
  double now = MonotonicSeconds();
  double lap = now - start_;
  start_ = now;
  return lap;
}

int Stopwatch::PollTimeoutMs(double limit) const {
  if (limit <= 0) return -1;
  double left = limit - Seconds();
  if (left <= 0) return 0;
  // Far-off limits (days) still fit poll's int.
  return static_cast<int>(std::min(std::ceil(left * 1000), 2147483647.0));
}

}  // namespace nsbuild::base
