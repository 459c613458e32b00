// The "writes" object of a policy file: whether every sub-phase's writes
// outside its roots are watched (sandbox/write_watch.h), and whether such a
// write fails the build or only warns. JSON is read here, at the edge.
//
//   "writes": {"watch": true, "on_violation": "fail" | "warn"}
#pragma once

#include "base/result.h"
#include "builder/policy_file.h"

namespace nsbuild::builder {

enum class OnViolation { kFail, kWarn };

struct WritesPolicy {
  bool watch = true;
  OnViolation on_violation = OnViolation::kFail;
};

// The document's "writes" object; absent = the defaults above.
base::Result<WritesPolicy> WritesPolicyOf(const PolicyDocument& doc);

// "fail" / "warn" (for the command line's --on-write-violation).
base::Result<OnViolation> ParseOnViolation(const std::string& text, const std::string& where);

}  // namespace nsbuild::builder
