#include "builder/policy_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <sstream>

#include "base/dir_fd.h"
#include "base/install_dirs.h"
#include "base/json_reader.h"
#include "base/suggest.h"

#ifndef NSBUILD_POLICY_DIR_REL
#define NSBUILD_POLICY_DIR_REL "../share/nsbuild/policies"
#endif

namespace nsbuild::builder {
namespace {

bool IsFile(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// The module objects a policy file may hold; anything else is a typo. No
// "verify" or "distcc" object: nothing would read one (distcc's daemons are
// the sandbox's "distcc_hosts"), and a key that is accepted and ignored
// looks to its writer like a setting that took effect.
const std::vector<std::string> kSections = {"description", "sandbox", "merge", "writes",
                                            "stricter_than"};

base::Result<std::string> FindByName(const std::string& name) {
  std::vector<std::string> dirs = PolicySearchDirs();
  for (const auto& dir : dirs) {
    if (IsFile(dir + "/" + name + ".json")) return dir + "/" + name + ".json";
  }
  std::string where;
  for (const auto& d : dirs) where += (where.empty() ? "" : ", ") + d;
  return base::PlainError("policy '" + name + "' not found (looked in " +
                          (where.empty() ? std::string("no directory") : where) + ")");
}

base::Result<PolicyDocument> LoadFile(const std::string& path) {
  // Run as root: the file and every directory above it root's alone.
  auto fd = base::OpenTrustedFile(path, base::RootOnlyTrustCheck());
  if (!fd.ok()) {
    return base::Wrap(fd.take_error(), "policy " + path);
  }
  NSB_ASSIGN_OR_RETURN(std::string text, base::ReadFdBounded(*fd, path, 1 << 20));
  NSB_ASSIGN_OR_RETURN(nlohmann::json doc, base::ParseJsonText(text, path));
  if (!doc.is_object()) return base::JsonError(path + ": $", "expected an object");
  for (const auto& [key, value] : doc.items()) {
    if (std::find(kSections.begin(), kSections.end(), key) == kSections.end()) {
      return base::JsonError(path + ": $." + key, "unknown key" + base::DidYouMean(key, kSections));
    }
  }
  if (doc.contains("stricter_than")) {
    const auto& st = doc.at("stricter_than");
    bool ok = st.is_array();
    for (size_t i = 0; ok && i < st.size(); ++i) ok = st[i].is_string();
    if (!ok)
      return base::JsonError(path + ": $.stricter_than", "expected an array of policy names");
  }
  return PolicyDocument{path, std::move(doc)};
}

}  // namespace

std::vector<std::string> PolicySearchDirs() {
  std::vector<std::string> candidates;
  if (const char* env = std::getenv("NSBUILD_POLICY_PATH")) {
    std::stringstream ss(env);
    std::string d;
    while (std::getline(ss, d, ':')) {
      if (!d.empty()) candidates.push_back(d);
    }
  }
  // The policies installed with this binary, found beside it (a binary in
  // the build tree finds the build's copy at the same relative place); never
  // a checkout's policies/, which whoever owns the checkout could edit.
  candidates.push_back(base::BesideExecutable(NSBUILD_POLICY_DIR_REL));
  std::vector<std::string> dirs;
  for (const auto& d : candidates) {
    struct stat st;
    // Anyone could drop a default.json into a world-writable directory.
    if (::stat(d.c_str(), &st) == 0 && (st.st_mode & S_IWOTH)) continue;
    dirs.push_back(d);
  }
  return dirs;
}

base::Result<PolicyDocument> LoadPolicyDocument(const std::string& name_or_path) {
  if (name_or_path.find('/') != std::string::npos || name_or_path.ends_with(".json")) {
    return LoadFile(name_or_path);
  }
  return LoadInstalledPolicy(name_or_path);
}

base::Result<PolicyDocument> LoadInstalledPolicy(const std::string& name) {
  if (name.empty() || name.find('/') != std::string::npos || name[0] == '.') {
    return base::PlainError("policy '" + name + "': a policy name, not a path");
  }
  NSB_ASSIGN_OR_RETURN(std::string path, FindByName(name));
  return LoadFile(path);
}

base::Result<std::string> ChoosePolicy(const std::string& operator_policy,
                                       const std::string& recipe_policy,
                                       const std::string& recipe_where) {
  if (!operator_policy.empty()) return operator_policy;
  if (recipe_policy.empty() || recipe_policy == "default") return std::string("default");
  auto doc = LoadInstalledPolicy(recipe_policy);
  if (!doc.ok()) return base::Wrap(doc.take_error(), recipe_where + ": $.policy");
  bool stricter = false;
  if (doc->json.contains("stricter_than")) {
    for (const auto& n : doc->json.at("stricter_than")) stricter = stricter || n == "default";
  }
  if (!stricter) {
    return base::PlainError(
        recipe_where + ": $.policy: asks for policy '" + recipe_policy + "' (" + doc->path +
        "), which does not declare itself stricter than 'default' (its \"stricter_than\"); "
        "a recipe may only tighten the policy. To build under it, choose it yourself: "
        "--policy " +
        recipe_policy);
  }
  return recipe_policy;
}

base::Result<sandbox::Policy> SandboxPolicyOf(const PolicyDocument& doc) {
  if (!doc.json.contains("sandbox")) {
    return base::JsonError(doc.path + ": $.sandbox", "required key is missing");
  }
  return sandbox::ParsePolicy(doc.json.at("sandbox"), doc.path + ": $.sandbox");
}

}  // namespace nsbuild::builder
