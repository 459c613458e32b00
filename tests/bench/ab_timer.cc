// A/B timer for benchmarks: runs command A and command B alternately N times
// (interleaved, so drift in machine load hits both alike), then prints each
// one's median wall time and the ratio A/B. A third command (an anchor such
// as the floor) joins the same rounds, and the ratio A/C is printed too.
//
//   nsbuild_ab_timer N [--warmup W] -- A ARGS... --vs-- B ARGS... [--vs-- C ARGS...]
#include <spawn.h>
#include <sys/resource.h>
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

struct Sample {
  double wall_ms;
  double cpu_ms;  // user + system of the command and every child it reaped
};

double Ms(const timeval& tv) { return tv.tv_sec * 1e3 + tv.tv_usec / 1e3; }

Sample RunOnce(std::vector<char*>& argv) {
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
  struct rusage ru = {};
  wait4(pid, &status, 0, &ru);
  auto t1 = std::chrono::steady_clock::now();
  posix_spawn_file_actions_destroy(&fa);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "%s failed (status %d)\n", argv[0], status);
    std::exit(2);
  }
  return {std::chrono::duration<double, std::milli>(t1 - t0).count(),
          Ms(ru.ru_utime) + Ms(ru.ru_stime)};
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
  std::vector<std::vector<char*>> cmds(1);
  for (++i; i < argc; ++i) {
    if (std::strcmp(argv[i], "--vs--") == 0) {
      cmds.emplace_back();
      continue;
    }
    cmds.back().push_back(argv[i]);
  }
  if (cmds.size() < 2 || cmds.size() > 3) return 2;
  for (auto& c : cmds) c.push_back(nullptr);
  for (int w = 0; w < warmup; ++w) {
    for (auto& c : cmds) RunOnce(c);
  }
  std::vector<std::vector<double>> wall(cmds.size()), cpu(cmds.size());
  for (int k = 0; k < n; ++k) {  // rotate which goes first, too
    for (size_t j = 0; j < cmds.size(); ++j) {
      size_t at = (j + static_cast<size_t>(k)) % cmds.size();
      Sample s = RunOnce(cmds[at]);
      wall[at].push_back(s.wall_ms);
      cpu[at].push_back(s.cpu_ms);
    }
  }
  double ma = Median(wall[0]), mb = Median(wall[1]);
  std::printf("pairs=%d median_a_ms=%.3f median_b_ms=%.3f ratio_a_over_b=%.3f", n, ma, mb, ma / mb);
  if (cmds.size() == 3) {
    double mc = Median(wall[2]);
    std::printf(" median_c_ms=%.3f ratio_a_over_c=%.3f", mc, ma / mc);
  }
  // CPU time moves less than wall time with other load on the machine.
  std::printf("\ncpu_a_ms=%.3f cpu_b_ms=%.3f", Median(cpu[0]), Median(cpu[1]));
  if (cmds.size() == 3) std::printf(" cpu_c_ms=%.3f", Median(cpu[2]));
  std::printf("\n");
  return 0;
}
