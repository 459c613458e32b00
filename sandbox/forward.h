// The parent side of the "distcc" network: a small relay that accepts on the
// listening sockets the sandbox's PID 1 created in the sandbox's own network
// namespace (and passed out), connects each accepted connection to its one
// daemon, and copies bytes both ways. The sandbox never gets a socket in any
// other namespace, so it reaches the listed daemon addresses and ports and
// nothing else. One poll loop on its own thread per sandbox, so neither the
// scheduler's nor `nsbuild run`'s loop needs to know about it; the owner
// stops and joins it when the sandbox has ended.
#pragma once

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "sandbox/spec.h"

namespace nsbuild::sandbox {

class Forwarder {
 public:
  // listeners[i] belongs to forwards[i]. The thread starts at once.
  static base::Result<std::unique_ptr<Forwarder>> Start(std::vector<base::UniqueFd> listeners,
                                                        const std::vector<Forward>& forwards);
  ~Forwarder();
  Forwarder(const Forwarder&) = delete;
  Forwarder& operator=(const Forwarder&) = delete;

  // Ends every connection, closes the listeners and joins the thread; safe
  // to call twice. Called once the sandbox's processes are gone.
  void Stop();

  // Connections that reached their daemon, per forward (one distcc job each).
  std::vector<uint64_t> forwarded() const;
  // Connections accepted whose daemon refused or could not be reached.
  uint64_t failures() const { return failures_.load(); }

 private:
  struct Loop;
  Forwarder() = default;

  std::unique_ptr<Loop> loop_;
  base::UniqueFd stop_;  // eventfd: the thread's poll wakes and returns
  std::thread thread_;
  std::unique_ptr<std::atomic<uint64_t>[]> forwarded_;
  size_t count_ = 0;
  std::atomic<uint64_t> failures_{0};
};

}  // namespace nsbuild::sandbox
