// A/B timer for benchmarks: runs command A and command B alternately N times
// (interleaved, so drift in machine load hits both alike), then prints each
// one's median wall time and the ratio A/B.
//
//   nsbuild_ab_timer N [--warmup W] -- A ARGS... --vs-- B ARGS...
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

extern char** environ;

namespace {

double RunOnce(std::vector<char*>& argv) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", 0x1 /*O_WRONLY*/, 0);
  auto t0 = std::chrono::steady_clock::now();
  pid_t pid;
  if (posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ) != 0) {
    std::perror(argv[0]);
    std::exit(2);
  }
  int status;
  waitpid(pid, &status, 0);
  auto t1 = std::chrono::steady_clock::now();
  posix_spawn_file_actions_destroy(&fa);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "%s failed (status %d)\n", argv[0], status);
    std::exit(2);
  }
  return std::chrono::duration<double, std::milli>(t1 - t0).count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: %s N [--warmup W] -- A... --vs-- B...\n", argv[0]);
    return 2;
  }
  int n = std::atoi(argv[1]);
  int warmup = 5;
  int i = 2;
  if (std::strcmp(argv[i], "--warmup") == 0) {
    warmup = std::atoi(argv[i + 1]);
    i += 2;
  }
  if (std::strcmp(argv[i], "--") != 0) return 2;
  std::vector<char*> a, b;
  std::vector<char*>* cur = &a;
  for (++i; i < argc; ++i) {
    if (std::strcmp(argv[i], "--vs--") == 0) {
      cur = &b;
      continue;
    }
    cur->push_back(argv[i]);
  }
  a.push_back(nullptr);
  b.push_back(nullptr);
  for (int w = 0; w < warmup; ++w) {
    RunOnce(a);
    RunOnce(b);
  }
  std::vector<double> ta, tb;
  for (int k = 0; k < n; ++k) {  // alternate which goes first, too
    if (k % 2) {
      ta.push_back(RunOnce(a));
      tb.push_back(RunOnce(b));
    } else {
      tb.push_back(RunOnce(b));
      ta.push_back(RunOnce(a));
    }
  }
  double ma = Median(ta), mb = Median(tb);
  std::printf("pairs=%d median_a_ms=%.3f median_b_ms=%.3f ratio_a_over_b=%.3f\n", n, ma, mb,
              ma / mb);
  return 0;
}
