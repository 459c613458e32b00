#include "sandbox/watched_calls.h"

namespace nsbuild::sandbox {

const std::vector<WatchedCall>& WatchedCalls() {
  static const std::vector<WatchedCall> calls = {
      {"open", 2, 1, {-1, 0}, {}},           {"openat", 257, 2, {0, 1}, {}},
      {"creat", 85, -1, {-1, 0}, {}},        {"truncate", 76, -1, {-1, 0}, {}},
      {"mkdir", 83, -1, {-1, 0}, {}},        {"mkdirat", 258, -1, {0, 1}, {}},
      {"rmdir", 84, -1, {-1, 0}, {}},        {"unlink", 87, -1, {-1, 0}, {}},
      {"unlinkat", 263, -1, {0, 1}, {}},     {"rename", 82, -1, {-1, 0}, {-1, 1}},
      {"renameat", 264, -1, {0, 1}, {2, 3}}, {"renameat2", 316, -1, {0, 1}, {2, 3}},
      {"link", 86, -1, {-1, 1}, {}},         {"linkat", 265, -1, {2, 3}, {}},
      {"symlink", 88, -1, {-1, 1}, {}},      {"symlinkat", 266, -1, {1, 2}, {}},
      {"mknod", 133, -1, {-1, 0}, {}},       {"mknodat", 259, -1, {0, 1}, {}},
      {"chmod", 90, -1, {-1, 0}, {}},        {"fchmodat", 268, -1, {0, 1}, {}},
      {"fchmodat2", 452, -1, {0, 1}, {}},    {"chown", 92, -1, {-1, 0}, {}},
      {"lchown", 94, -1, {-1, 0}, {}},       {"fchownat", 260, -1, {0, 1}, {}},
      {"utime", 132, -1, {-1, 0}, {}},       {"utimes", 235, -1, {-1, 0}, {}},
      {"futimesat", 261, -1, {0, 1}, {}},    {"utimensat", 280, -1, {0, 1}, {}},
      {"bind", 49, -1, {}, {}, true},
  };
  return calls;
}

}  // namespace nsbuild::sandbox
