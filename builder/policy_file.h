// Finding and reading policy files. A policy file is one JSON document whose
// top-level objects belong to modules: "sandbox" (sandbox::ParsePolicy),
// "merge" (the merger's checks), "writes" (violation reporting). Each module
// parses its own object; this file only locates and loads the document, and
// decides whose choice a build's policy is (ChoosePolicy).
//
// Trust (tests/security/THREAT_MODEL.md): a policy decides how much a build
// may do, so it must come from the operator. Run as root, nsbuild reads a
// policy file only if the file and every directory above it are owned by
// root and not writable by group or others (a root-owned sticky directory
// such as /tmp is passed when the next entry is root's), as sudo and
// OpenSSH check their files. The search path for names is
// $NSBUILD_POLICY_PATH (the operator's environment), then, only for a binary
// running from its build tree, the source tree's policies/, then the
// installed share/nsbuild/policies; a directory writable by others is
// skipped.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/result.h"
#include "sandbox/policy.h"

namespace nsbuild::builder {

struct PolicyDocument {
  std::string path;  // the file it came from
  nlohmann::json json;
};

// The operator's choice (a command line's --policy): NAME (e.g. "default")
// is looked up in the search path; anything with a '/' or ending in .json
// is a file path.
base::Result<PolicyDocument> LoadPolicyDocument(const std::string& name_or_path);
// A policy by name only, from the search path (what a recipe may name).
base::Result<PolicyDocument> LoadInstalledPolicy(const std::string& name);

// The directories names are looked up in, in order.
std::vector<std::string> PolicySearchDirs();

// The policy a build runs under. The operator's --policy, when given, wins
// and the recipe's "policy" is ignored. Without it the operator's policy is
// "default", and the recipe's "policy" (a name, never a path) is honoured
// only when that installed policy declares itself stricter than "default"
// ("stricter_than": ["default"] — the bundled "strict" does); otherwise it
// is refused (exit 2) and the message says to pass --policy to choose it.
// `recipe_where` names the recipe in errors.
base::Result<std::string> ChoosePolicy(const std::string& operator_policy,
                                       const std::string& recipe_policy,
                                       const std::string& recipe_where);

// The document's "sandbox" object as a typed policy (required).
base::Result<sandbox::Policy> SandboxPolicyOf(const PolicyDocument& doc);

}  // namespace nsbuild::builder
