#include "builder/build_policy.h"

namespace nsbuild::builder {

base::Result<merge::MergePolicy> MergePolicyOf(const PolicyDocument& doc) {
  if (!doc.json.contains("merge")) return merge::MergePolicy{};
  return merge::ParseMergePolicy(doc.json.at("merge"), doc.path + ": $.merge");
}

base::Result<BuildPolicy> LoadBuildPolicy(const std::string& name_or_path) {
  NSB_ASSIGN_OR_RETURN(PolicyDocument doc, LoadPolicyDocument(name_or_path));
  BuildPolicy p;
  p.name = name_or_path;
  p.path = doc.path;
  NSB_ASSIGN_OR_RETURN(p.sandbox, SandboxPolicyOf(doc));
  NSB_ASSIGN_OR_RETURN(p.writes, WritesPolicyOf(doc));
  NSB_ASSIGN_OR_RETURN(p.merge, MergePolicyOf(doc));
  return p;
}

}  // namespace nsbuild::builder
