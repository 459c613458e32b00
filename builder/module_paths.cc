#include "builder/module_paths.h"

#include <sys/stat.h>

#include <algorithm>

#include "base/dir_fd.h"
#include "base/escape.h"

namespace nsbuild::builder {
namespace {

// Prints sys.path's directory entries one a line (no "", no .zip).
constexpr const char* kSysPath =
    "import os, sys\n"
    "print('\\n'.join(p for p in sys.path if p and os.path.isabs(p) and not p.endswith('.zip')))\n";

// "/usr/lib/python3/dist-packages" of "/usr/lib/python3/dist-packages/x/y.py".
std::string ModuleDirOf(const std::string& path) {
  for (const char* name : {"/site-packages/", "/dist-packages/"}) {
    size_t at = path.find(name);
    if (at != std::string::npos)
      return path.substr(0, at + std::char_traits<char>::length(name) - 1);
  }
  return "";
}

}  // namespace

std::vector<std::string> ImportPaths(const std::string& program) {
  std::string out = RunCapture({program, "-I", "-c", kSysPath});
  std::vector<std::string> paths;
  size_t start = 0;
  while (start < out.size()) {
    size_t nl = out.find('\n', start);
    if (nl == std::string::npos) nl = out.size();
    if (nl > start) paths.push_back(out.substr(start, nl - start));
    start = nl + 1;
  }
  return paths;
}

std::set<std::string> ModuleDirsOf(int image_fd) {
  std::set<std::string> dirs;
  if (image_fd < 0) return dirs;
  (void)base::WalkTreeAt(base::BorrowedFd(image_fd),
                         [&](int, const std::string& rel, const struct stat& st) {
                           if (S_ISDIR(st.st_mode)) return dirs.size() < kMaxModuleDirs;
                           std::string dir = ModuleDirOf("/" + rel);
                           if (!dir.empty() && dirs.size() < kMaxModuleDirs) dirs.insert(dir);
                           return true;
                         });
  return dirs;
}

std::vector<std::string> MisplacedModuleDirs(const std::string& impl,
                                             const std::set<std::string>& module_dirs,
                                             const std::vector<std::string>& import_paths) {
  std::vector<std::string> out;
  if (import_paths.empty()) return out;  // the program did not answer: nothing to compare
  for (const auto& d : module_dirs) {
    if (std::find(import_paths.begin(), import_paths.end(), d) != import_paths.end()) continue;
    std::string where;
    for (const auto& p : import_paths) {
      if (ModuleDirOf(p + "/").size() > 0) where += (where.empty() ? "" : ", ") + p;
    }
    out.push_back(impl + " installed Python modules into " + base::EscapeLine(d) + ", which " +
                  impl + " does not import from (it imports from " +
                  (where.empty() ? std::string("none of its site dirs") : where) +
                  "); install with the layout of that implementation");
  }
  return out;
}

}  // namespace nsbuild::builder
