// SIGINT/SIGTERM while a build runs: the handler only writes a byte to a
// pipe the scheduler polls (the self-pipe trick), so stopping is decided in
// the poll loop, never in a signal handler. The signal mask is left alone,
// so sandboxed commands start with the signals they expect.
#pragma once

#include <memory>

#include "base/result.h"
#include "base/unique_fd.h"

namespace nsbuild::builder {

class StopSignals {
 public:
  // One instance at a time; restores the previous handlers when destroyed.
  static base::Result<std::unique_ptr<StopSignals>> Install();
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  int read_fd() const { return read_.get(); }
  // The first signal caught, 0 if none.
  int caught() const;

 private:
  StopSignals() = default;
  base::UniqueFd read_, write_;
};

}  // namespace nsbuild::builder
