// What `nsbuild merge` and the end of `nsbuild build` share: the merge
// policy of a policy file, the dispatcher binary to install, and printing a
// merge report the same way.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "merge/merge.h"

namespace nsbuild::builder {

// The "merge" object of a policy file (its defaults when absent), for
// `nsbuild merge`; a build carries the one it parsed (build_policy.h).
base::Result<merge::MergePolicy> LoadMergePolicy(const std::string& name);

// The nsbuild-exec dispatcher to install: $NSBUILD_EXEC_DISPATCHER, the
// installed one, else the one in this build tree.
std::string DispatcherPath();

// One line per finding on stderr; returns whether the report allows merging.
bool PrintMergeReport(const char* cmd, const merge::MergeReport& rep,
                      const std::vector<merge::ImageSpec>& images);

void Say(const char* cmd, const std::string& line);

}  // namespace nsbuild::builder
