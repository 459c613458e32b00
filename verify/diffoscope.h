// Showing how differing files differ with diffoscope, when it is installed.
// diffoscope unpacks and parses untrusted build output with dozens of
// external tools, so it runs in a sandbox like a build: no network, both
// images read-only, only its output directory writable, killed after a time
// limit. Without it, verify keeps its own unified diff / byte-offset summary.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "base/result.h"
#include "sandbox/policy.h"

namespace nsbuild::verify {

struct DiffoscopeRequest {
  const sandbox::Policy* policy = nullptr;
  std::string a_root, b_root;      // the two images (host paths)
  std::vector<std::string> paths;  // relative paths, regular files in both
  std::string out_dir;             // made afresh; receives N-NAME.txt and .html
  // out_dir's parent, opened (nsbuild's own): out_dir (= its last name) and
  // OUT_DIR.log are made through it, never by path.
  int out_parent_fd = -1;
  double timeout_seconds = 300;  // for the whole sandbox
};

struct DiffoscopeOutput {
  std::string text, html;  // host paths of its reports
};

// The first this many files are shown; diffoscope is slow on many.
inline constexpr size_t kDiffoscopeMaxFiles = 20;

// "" when diffoscope is installed, else why it is not used.
std::string DiffoscopeUnavailable();

// path → its reports, for the paths diffoscope wrote reports for. An error
// only when the sandbox could not run at all; after a timeout the reports
// finished so far are returned (and the timeout said on stderr).
base::Result<std::map<std::string, DiffoscopeOutput>> RunDiffoscope(
    const DiffoscopeRequest& request);

}  // namespace nsbuild::verify
