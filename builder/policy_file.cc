#include "builder/policy_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <sstream>

#include "base/install_dirs.h"
#include "base/json_reader.h"

#ifndef NSBUILD_POLICY_DIR_REL
#define NSBUILD_POLICY_DIR_REL "../share/nsbuild/policies"
#endif

namespace nsbuild::builder {
namespace {

bool IsFile(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::vector<std::string> SearchDirs() {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("NSBUILD_POLICY_PATH")) {
    std::stringstream ss(env);
    std::string d;
    while (std::getline(ss, d, ':')) {
      if (!d.empty()) dirs.push_back(d);
    }
  }
  // The policies installed with this binary (a built one finds the build
  // tree's copy at the same relative place), never a checkout's.
  dirs.push_back(base::BesideExecutable(NSBUILD_POLICY_DIR_REL));
  return dirs;
}

// The module objects a policy file may hold; anything else is a typo.
const char* const kSections[] = {"description", "sandbox", "merge", "writes", "verify", "distcc"};

}  // namespace

base::Result<PolicyDocument> LoadPolicyDocument(const std::string& name_or_path) {
  std::string path;
  if (name_or_path.find('/') != std::string::npos || name_or_path.ends_with(".json")) {
    path = name_or_path;
  } else {
    for (const auto& dir : SearchDirs()) {
      if (IsFile(dir + "/" + name_or_path + ".json")) {
        path = dir + "/" + name_or_path + ".json";
        break;
      }
    }
    if (path.empty()) {
      return base::PlainError("policy '" + name_or_path + "' not found (looked in $NSBUILD_POLICY_PATH, " +
                              base::BesideExecutable(NSBUILD_POLICY_DIR_REL) + ")");
    }
  }
  NSB_ASSIGN_OR_RETURN(nlohmann::json doc, base::ParseJsonFile(path));
  if (!doc.is_object()) return base::JsonError(path + ": $", "expected an object");
  for (const auto& [key, value] : doc.items()) {
    bool known = false;
    for (const char* s : kSections) known = known || key == s;
    if (!known) return base::JsonError(path + ": $." + key, "unknown key");
  }
  return PolicyDocument{path, std::move(doc)};
}

base::Result<sandbox::Policy> SandboxPolicyOf(const PolicyDocument& doc) {
  if (!doc.json.contains("sandbox")) {
    return base::JsonError(doc.path + ": $.sandbox", "required key is missing");
  }
  return sandbox::ParsePolicy(doc.json.at("sandbox"), doc.path + ": $.sandbox");
}

}  // namespace nsbuild::builder
