// Helpers for integration tests: run the real nsbuild binary, capture its
// output and status, make scratch directories. Tests assert what a user sees.
#pragma once

#include <string>
#include <vector>

namespace nsbuild::testing {

struct CommandResult {
  int status = -1;  // exit status, or 128+signal
  std::string out;  // stdout
  std::string err;  // stderr
};

// The nsbuild binary under test: $NSBUILD_BIN, else the one built here.
std::string NsbuildBin();
// The source tree (examples/): $NSBUILD_SOURCE_DIR, else this checkout. The
// unprivileged test pass points it at a copy it can read.
std::string SourceDir();
// Runs argv with the given extra environment; stdin is /dev/null.
CommandResult RunCommand(const std::vector<std::string>& argv,
                         const std::vector<std::string>& extra_env = {});
// nsbuild ARGS...
CommandResult Nsbuild(const std::vector<std::string>& args);
// A fresh directory under $TMPDIR, removed by the destructor.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};
bool IsRoot();

}  // namespace nsbuild::testing
