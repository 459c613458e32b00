// A policy document parsed once into every module's typed part. It travels
// with the build (the sandboxes, the write watcher, the merge hand-off,
// verify's diffoscope), so no part is read again later by name: the merge
// applies the very document the build ran under.
#pragma once

#include <string>

#include "base/result.h"
#include "builder/write_policy.h"
#include "merge/merge_policy.h"
#include "sandbox/policy.h"

namespace nsbuild::builder {

struct BuildPolicy {
  std::string name;  // as chosen (policy_file.h, ChoosePolicy): a name or the operator's file
  std::string path;  // the file it was read from
  sandbox::Policy sandbox;
  WritesPolicy writes;
  merge::MergePolicy merge;  // its defaults when the document has no "merge"
};

base::Result<BuildPolicy> LoadBuildPolicy(const std::string& name_or_path);

// The document's "merge" object (its defaults when absent).
base::Result<merge::MergePolicy> MergePolicyOf(const PolicyDocument& doc);

}  // namespace nsbuild::builder
