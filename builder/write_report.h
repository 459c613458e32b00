// What a build wrote where it should not, told the way Gentoo users know it:
// one ACCESS VIOLATION SUMMARY with a block per implementation and phase (from the
// write watcher's records in the RunSummary), and notices for files a
// sub-phase left in its private HOME (~/.cache and the like: harmless here,
// but a sign the package writes to a user's home when built elsewhere).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "builder/plan.h"
#include "builder/results.h"

namespace nsbuild::builder {

// The summary, under one banner; empty when nothing was denied.
std::string FormatWriteSummary(const Plan& plan, const RunSummary& summary);
// The same records as plain "nsbuild: denied OP PATH by pid N: COMMAND"
// lines for a sub-phase's log (its tail is shown on failure: without a
// banner there, the summary's is the only one on the terminal).
std::string FormatViolationLines(const std::vector<sandbox::WriteViolation>& violations,
                                 uint64_t not_kept);

// Files under a HOME, grouped by their first two path components
// (".cache/pip"), so a pip cache of thousands of files is one line.
struct HomeLeftover {
  std::string path;  // relative to HOME
  uint64_t files = 0;
  uint64_t bytes = 0;
};
// At most kMaxHomeLeftoverGroups groups; files past them are one group
// named kOtherLeftovers.
inline constexpr size_t kMaxHomeLeftoverGroups = 64;
inline constexpr const char* kOtherLeftovers = "(elsewhere)";
std::vector<HomeLeftover> ListHomeLeftovers(const std::string& home_dir);

// "notice: TARGET left N file(s) in its HOME: .cache/pip (12 files, 340 KiB), ..."
std::string FormatHomeLeftovers(const std::string& target, const std::vector<HomeLeftover>& left);

}  // namespace nsbuild::builder
