// One job split over threads: contiguous slices of [0, count), one thread
// each. The merger's passes over an image (content, links, retiring) use it:
// contiguous slices keep each thread in few directories.
#pragma once

#include <cstddef>
#include <thread>
#include <vector>

#include "base/result.h"

namespace nsbuild::base {

// Runs fn(t, lo, hi) for slice t of `threads` on its own thread and waits
// for all of them; the first failing slice's error (in slice order) wins.
// Slices that should stop when another fails must check a shared flag.
template <typename Fn>
Status Sliced(unsigned threads, size_t count, Fn fn) {
  std::vector<Status> results(threads);
  std::vector<std::thread> running;
  for (unsigned t = 0; t < threads; ++t) {
    size_t lo = count * t / threads, hi = count * (t + 1) / threads;
    running.emplace_back([&, t, lo, hi] { results[t] = fn(t, lo, hi); });
  }
  for (auto& th : running) th.join();
  for (auto& r : results) NSB_TRY(std::move(r));
  return {};
}

}  // namespace nsbuild::base
