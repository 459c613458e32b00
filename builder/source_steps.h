// What happens to the prepared source once, before the per-implementation
// copies see it (distutils-r1's python_prepare_all): the recipe's patches,
// then its `prepare` phase. Both run in sandboxes that see WORK/source
// writable and nothing else of the work dir.
//
// Trust (tests/security/THREAT_MODEL.md): patch files and quilt series are
// the recipe's, opened beneath the recipe's directory like its source (no
// absolute path, no '..' out of it, no symlink on the way); a series is read
// bounded and every name in it is checked the same way. root only opens
// them: `patch` reads each one as its stdin, inside the sandbox.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "builder/recipe.h"
#include "builder/source.h"
#include "builder/workdir.h"
#include "sandbox/policy.h"

namespace nsbuild::builder {

// One patch, opened: applied with `patch -pSTRIP`.
struct OpenPatch {
  std::string name;  // relative to the recipe's directory, for messages
  int strip = 1;
  std::shared_ptr<base::UniqueFd> fd;
};

// The recipe's patches in order, a series expanded to the patches it lists
// (relative to the series' directory; "-pN" after a name sets its strip
// level). Opened now, so a missing patch is an error before any work.
base::Result<std::vector<OpenPatch>> OpenPatches(const Recipe& recipe);

// A quilt series' patch names and strip levels; comments and blank lines
// skipped. Names are checked by OpenPatches.
std::vector<std::pair<std::string, int>> ParseSeries(const std::string& text);

// What is done to the source once, for --dry-run: its sha256, the patches
// as the recipe names them, the prepare script ("" when none of them).
std::string DescribeSourceSteps(const Recipe& recipe);

// Applies the patches to `src` in order, then runs the recipe's `prepare`
// (if any); logs go to WORK/logs/patch.log and WORK/logs/prepare.log.
base::Status PrepareOnce(const Recipe& recipe, const std::vector<OpenPatch>& patches,
                         const PreparedSource& src, const WorkDir& work,
                         const sandbox::Policy& policy, int64_t source_date_epoch, int jobs);

}  // namespace nsbuild::builder
