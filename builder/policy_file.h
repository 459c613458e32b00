// Finding and reading policy files. A policy file is one JSON document whose
// top-level objects belong to modules: "sandbox" (sandbox::ParsePolicy),
// "merge" (the merger's checks), "writes" (violation reporting). Each module
// parses its own object; this file only locates and loads the document.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "base/result.h"
#include "sandbox/policy.h"

namespace nsbuild::builder {

struct PolicyDocument {
  std::string path;  // the file it came from
  nlohmann::json json;
};

// NAME (e.g. "default") is looked up in $NSBUILD_POLICY_PATH (colon list),
// the source tree's policies/ and the installed policy dir; anything with a
// '/' or ending in .json is a file path.
base::Result<PolicyDocument> LoadPolicyDocument(const std::string& name_or_path);

// The document's "sandbox" object as a typed policy (required).
base::Result<sandbox::Policy> SandboxPolicyOf(const PolicyDocument& doc);


}  // namespace nsbuild::builder
