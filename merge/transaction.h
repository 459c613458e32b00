// Carrying out a DestPlan crash-safely, and recovering after a crash.
//
// Order of events (each arrow is durable before the next starts):
//   journal "prepared" fsynced → operations (new names appear atomically:
//   linkat to a free name, or a temporary name renamed over; old files are
//   kept as .nsb-old.K) → syncfs of the destination → new database written
//   as NAME.json.new and fsynced → journal "committed" → database renamed
//   into place, .nsb-old.K removed, emptied directories removed, journal
//   removed.
// A crash before "committed" is rolled back, after it rolled forward, so the
// destination is always the old state or the new one and the database
// matches it.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "merge/dest_plan.h"
#include "merge/image_scan.h"
#include "merge/merge_policy.h"

namespace nsbuild::merge {

// An exclusive flock on the destination's database directory (created if
// missing), held for a whole merge, uninstall or recovery; any interrupted
// transaction found is recovered first, and `recovered` says what was done
// ("" when there was nothing).
struct DestLock {
  base::UniqueFd dest;
  base::UniqueFd db_dir;
  std::string recovered;
};
base::Result<DestLock> LockDestination(const std::string& dest_path);

// Executes the plan. On failure the transaction is rolled back before
// returning; if even that fails, the journal stays for `merge --recover`
// and the error says so.
base::Status Execute(const DestLock& lock, const DestPlan& plan,
                     const std::vector<ScannedImage>& images, const MergePolicy& policy);

// Recovers an interrupted transaction under `lock`, if its journal exists.
base::Result<std::string> Recover(const DestLock& lock);

}  // namespace nsbuild::merge
