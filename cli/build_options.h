// The options `nsbuild build` and `nsbuild verify` share, declared once so
// that both check them the same way: the recipe, --impl, -j (1..kMaxJobs),
// -l, --policy, --source and --distcc.
#pragma once

#include <CLI/CLI.hpp>

#include "builder/setup.h"

namespace nsbuild::cli {

// `jobs_help` says what -j bounds for this command.
void AddBuildOptions(CLI::App& cmd, builder::PlanOptions& o, const std::string& jobs_help);

}  // namespace nsbuild::cli
