// What an admin does with installed packages after merging: uninstall one
// (journaled like a merge, keeping files changed since install), find which
// package owns a path, and list what changed since install.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "merge/checks.h"

namespace nsbuild::merge {

struct UninstallReport {
  size_t removed = 0;              // operations carried out
  std::vector<std::string> kept;   // files changed since install, left in place
  std::string recovered;
};
base::Result<UninstallReport> Uninstall(const std::string& dest, const std::string& package);

// Packages listing `path` (absolute inside the destination). Read-only.
base::Result<std::vector<std::string>> Owners(const std::string& dest, const std::string& path);

// Every recorded path of `package` that no longer matches its record,
// with what differs. Read-only. An unknown package is an error.
base::Result<std::vector<Finding>> VerifyInstalled(const std::string& dest,
                                                   const std::string& package);

}  // namespace nsbuild::merge
