// 1,000 sandboxes in a row from one process, through the library the builder
// uses: the parent's fds, mounts and child processes must not grow.
#include <dirent.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "sandbox/plan.h"
#include "sandbox/sandbox.h"

namespace {

size_t CountDir(const char* path) {
  size_t n = 0;
  DIR* d = opendir(path);
  while (dirent* e = d ? readdir(d) : nullptr) n += e->d_name[0] != '.';
  if (d) closedir(d);
  return n;
}

size_t CountLines(const char* path) {
  std::ifstream in(path);
  std::string line;
  size_t n = 0;
  while (std::getline(in, line)) ++n;
  return n;
}

size_t CountChildren() {
  std::ifstream in("/proc/self/task/" + std::to_string(getpid()) + "/children");
  std::string pid;
  size_t n = 0;
  while (in >> pid) ++n;
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace nsbuild::sandbox;
  int n = argc > 1 ? std::atoi(argv[1]) : 1000;
  Policy policy;
  policy.ro_binds = {MountOp{MountKind::kRoBind, "/usr", "/usr"}};
  policy.mirror_links = {"/bin", "/lib", "/lib64"};
  policy.tmpfs = {"/tmp"};
  RunRequest req;
  req.argv = {"/usr/bin/true"};
  auto spec = PlanSandbox(policy, req);
  if (!spec) {
    std::fprintf(stderr, "plan: %s\n", spec.error().Message().c_str());
    return 2;
  }
  size_t fds0 = CountDir("/proc/self/fd"), mounts0 = CountLines("/proc/self/mountinfo");
  size_t kids0 = CountChildren();
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    auto info = Run(*spec);
    if (!info || info->ExitStatus() != 0) {
      std::fprintf(stderr, "run %d failed\n", i);
      return 2;
    }
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  size_t fds1 = CountDir("/proc/self/fd"), mounts1 = CountLines("/proc/self/mountinfo");
  size_t kids1 = CountChildren();
  std::printf("sandboxes=%d per_sandbox_ms=%.3f fds=%zu->%zu mounts=%zu->%zu children=%zu->%zu\n",
              n, secs * 1000 / n, fds0, fds1, mounts0, mounts1, kids0, kids1);
  bool grew = fds1 > fds0 || mounts1 > mounts0 || kids1 > kids0;
  std::printf("%s\n", grew ? "FAIL: the parent grew" : "ok: nothing grew");
  return grew ? 1 : 0;
}
