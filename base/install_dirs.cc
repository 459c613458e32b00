#include "base/install_dirs.h"

#include <unistd.h>

#include <climits>
#include <filesystem>

namespace nsbuild::base {

std::string ExecutableDir() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "";
  buf[n] = '\0';
  return std::filesystem::path(buf).parent_path().string();
}

std::string BesideExecutable(const std::string& relative) {
  std::string dir = ExecutableDir();
  if (dir.empty()) return "";
  return (std::filesystem::path(dir) / relative).lexically_normal().string();
}

}  // namespace nsbuild::base
