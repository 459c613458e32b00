#include "builder/merge_handoff.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "base/escape.h"
#include "base/install_dirs.h"
#include "builder/build_policy.h"

#ifndef NSBUILD_EXEC_REL
#define NSBUILD_EXEC_REL "../libexec/nsbuild/nsbuild-exec"
#endif

namespace nsbuild::builder {

// Lines name image paths, which a build chose: one line each, escaped.
void Say(const char* cmd, const std::string& line) {
  std::fprintf(stderr, "nsbuild %s: %s\n", cmd, base::EscapeLine(line).c_str());
}

base::Result<merge::MergePolicy> LoadMergePolicy(const std::string& name) {
  NSB_ASSIGN_OR_RETURN(PolicyDocument doc, LoadPolicyDocument(name));
  return MergePolicyOf(doc);
}

// The dispatcher to install: $NSBUILD_EXEC_DISPATCHER, else the one
// installed (or built) beside this binary.
std::string DispatcherPath() {
  if (const char* e = std::getenv("NSBUILD_EXEC_DISPATCHER")) return e;
  return base::BesideExecutable(NSBUILD_EXEC_REL);
}

bool PrintMergeReport(const char* cmd, const merge::MergeReport& rep,
                      const std::vector<merge::ImageSpec>& images) {
  auto path_of = [&](const std::string& impl) {
    for (const auto& i : images) {
      if (i.impl == impl) return i.path;
    }
    return images.empty() ? std::string() : images.front().path;
  };
  if (!rep.recovered.empty()) Say(cmd, "recovered first: " + rep.recovered);
  for (const auto& f : rep.rejections)
    Say(cmd, "rejected: " + merge::FormatFinding(f, path_of(f.impl)));
  for (const auto& f : rep.conflicts) Say(cmd, "conflict: " + f.path + ": " + f.reason);
  for (const auto& f : rep.collisions) Say(cmd, "collision: " + f.path + ": " + f.reason);
  for (const auto& f : rep.notices) Say(cmd, "notice: " + merge::FormatFinding(f, path_of(f.impl)));
  // Implementations that install a file differently, beyond what they are
  // expected to (compiled extensions and caches have their own names, the
  // dist-info is merged): worth a look, whichever the preference kept.
  for (const auto& f : rep.preferred) Say(cmd, "warning: preferred: " + f.path + ": " + f.reason);
  for (const auto& p : rep.config_new) {
    Say(cmd, "config: " + p + " was changed locally; the new version is beside it as ._new_" +
                 p.substr(p.rfind('/') + 1));
  }
  for (const auto& p : rep.kept) Say(cmd, "kept: " + p + " (changed since install)");
  if (!rep.retire_error.empty()) {
    Say(cmd, "warning: merged, but an image still holds second names of installed files: " +
                 rep.retire_error);
  }
  return rep.ok();
}

}  // namespace nsbuild::builder
