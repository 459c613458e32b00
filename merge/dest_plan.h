// Comparing the merged package with the destination: the list of
// operations a transaction will carry out, decided before anything changes.
// Here live the collision rules against the destination (a path there that
// is not this package's is refused, as Portage's collision-protect does)
// and config protection (an admin-changed file under a protected path gets
// the new version beside it as ._new_NAME).
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "merge/checks.h"
#include "merge/database.h"
#include "merge/merge_policy.h"
#include "merge/plan.h"

namespace nsbuild::merge {

enum class OpKind { kMkdir, kAdd, kReplace, kRemove, kRmdir };
const char* OpKindName(OpKind k);

struct Op {
  OpKind kind = OpKind::kAdd;
  std::string path;  // destination-relative
  int item = -1;     // index into DestPlan::items for kAdd/kReplace/kMkdir
  mode_t perm = 0;   // kMkdir: the new directory's mode
};

struct DestPlan {
  std::string package;
  std::vector<PlanItem> items;      // after config protection renamed some
  std::vector<Op> ops;              // in execution order
  std::vector<Finding> collisions;  // non-empty: nothing may be done
  std::vector<std::string> config_new;  // "/etc/x" whose new version went to ._new_x
  std::vector<std::string> kept;        // old files kept: changed since install
  bool delete_db = false;           // uninstall: the package's record goes away
  PackageDb new_db;
};

// Plans installing `items` as `package` over the destination's current
// state and the packages recorded in `dbs` (which may hold its old version).
base::Result<DestPlan> PlanInstall(base::BorrowedFd dest, std::vector<PlanItem> items,
                                   const std::string& package,
                                   const std::vector<PackageDb>& dbs, const MergePolicy& policy);

// Plans removing `package`: its files unless changed since install or
// listed by another package, then its directories that end up empty.
base::Result<DestPlan> PlanUninstall(base::BorrowedFd dest, const std::string& package,
                                     const std::vector<PackageDb>& dbs);

// Whether the destination still holds what `r` recorded (type, mode, size,
// sha256, target). `why` says what differs.
base::Result<bool> Unchanged(base::BorrowedFd dest, const DbRecord& r, std::string* why);

}  // namespace nsbuild::merge
