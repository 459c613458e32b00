// Shared by the tests that drive `nsbuild build`: scratch dirs the sandbox
// can use, small file helpers and a recipe of shell-only implementations.
#pragma once

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/integration/harness.h"

namespace nsbuild::testing {

inline void Write(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path) << text;
}

inline std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A scratch dir the sandbox's mapped ids can traverse, emptied even of the
// mode-000 dirs overlayfs leaves behind.
class BuildDir {
 public:
  BuildDir() { ::chmod(scratch_.path().c_str(), 0755); }
  ~BuildDir() { RunCommand({"chmod", "-R", "u+rwx", scratch_.path()}); }
  std::string operator/(const std::string& rel) const { return scratch_.path() + "/" + rel; }
  const std::string& path() const { return scratch_.path(); }

 private:
  ScratchDir scratch_;
};

// A recipe whose implementations are generic kinds running /bin/sh, so these
// tests need no particular Python.
inline std::string ShellRecipe(const std::string& phases, const std::string& extra = "") {
  return R"({"name": "t", "version": "1", "source": "src",
    "implementations": ["a", "b"],
    "define_implementations": {"a": {"program": "/bin/sh"}, "b": {"program": "/bin/sh"}},
    "phases": )" +
         phases + extra + "}";
}

}  // namespace nsbuild::testing
