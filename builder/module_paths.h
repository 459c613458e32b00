// After install: does every Python module an implementation installed lie
// where that implementation imports from? (A pypy3 module installed into
// /usr/lib/pypy3.9/site-packages, which Debian's pypy3 does not read, was
// merged silently.) The image is walked by fd (it is the sandbox's); the
// implementation's sys.path is asked of the program itself.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "builder/impls.h"

namespace nsbuild::builder {

// The absolute directories `program` imports from: its default sys.path,
// without the script dir and zip files.
std::vector<std::string> ImportPaths(const std::string& program);

// Every site-packages / dist-packages directory holding a file in the image
// opened as `image_fd`, as an absolute path inside the installed root
// ("/usr/lib/python3/dist-packages"). At most kMaxModuleDirs.
inline constexpr size_t kMaxModuleDirs = 64;
std::set<std::string> ModuleDirsOf(int image_fd);

// One warning per module dir the implementation does not import from.
std::vector<std::string> MisplacedModuleDirs(const std::string& impl,
                                             const std::set<std::string>& module_dirs,
                                             const std::vector<std::string>& import_paths);

}  // namespace nsbuild::builder
