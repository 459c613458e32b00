#include "merge/maintenance.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "base/fs.h"
#include "merge/database.h"
#include "merge/dest_plan.h"
#include "merge/fd_walk.h"
#include "merge/journal.h"
#include "merge/transaction.h"

namespace nsbuild::merge {
namespace {

struct ReadOnlyDb {
  base::UniqueFd dest;
  base::UniqueFd db_dir;
};

// Opens without creating or locking anything; a pending journal means the
// database may not match the disk, so read-only commands refuse to answer.
base::Result<ReadOnlyDb> OpenReadOnly(const std::string& dest) {
  ReadOnlyDb r;
  NSB_ASSIGN_OR_RETURN(r.dest, OpenRootDir(dest));
  auto db = OpenDbDir(r.dest, false);
  if (!db.ok()) {
    return base::PlainError(dest + " has no installed-files database (" + kDbDir + ")");
  }
  r.db_dir = std::move(*db);
  struct stat st;
  if (::fstatat(r.db_dir.get(), kJournalName, &st, AT_SYMLINK_NOFOLLOW) == 0) {
    return base::PlainError(dest + " has an interrupted merge; run nsbuild merge --recover --dest " +
                            dest + " first");
  }
  return r;
}

std::string Normalize(const std::string& path) {
  std::string p = path.empty() || path[0] != '/' ? "/" + path : path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

}  // namespace

base::Result<UninstallReport> Uninstall(const std::string& dest, const std::string& package) {
  NSB_TRY(ValidatePackageName(package));
  UninstallReport rep;
  NSB_ASSIGN_OR_RETURN(DestLock lock, LockDestination(dest));
  rep.recovered = lock.recovered;
  NSB_ASSIGN_OR_RETURN(std::vector<PackageDb> dbs, LoadAllDbs(lock.db_dir));
  bool known = false;
  for (const auto& db : dbs) known = known || db.package == package;
  if (!known) return base::PlainError("package " + package + " is not installed in " + dest);
  NSB_ASSIGN_OR_RETURN(DestPlan plan, PlanUninstall(lock.dest, package, dbs));
  NSB_TRY(Execute(lock, plan, {}, MergePolicy{}));
  rep.removed = plan.ops.size();
  rep.kept = plan.kept;
  return rep;
}

base::Result<std::vector<std::string>> Owners(const std::string& dest, const std::string& path) {
  NSB_ASSIGN_OR_RETURN(ReadOnlyDb ro, OpenReadOnly(dest));
  NSB_ASSIGN_OR_RETURN(std::vector<PackageDb> dbs, LoadAllDbs(ro.db_dir));
  auto idx = OwnerIndex(dbs);
  auto it = idx.find(Normalize(path));
  if (it == idx.end()) return std::vector<std::string>{};
  return it->second;
}

base::Result<std::vector<Finding>> VerifyInstalled(const std::string& dest,
                                                   const std::string& package) {
  NSB_TRY(ValidatePackageName(package));
  NSB_ASSIGN_OR_RETURN(ReadOnlyDb ro, OpenReadOnly(dest));
  NSB_ASSIGN_OR_RETURN(auto db, LoadDb(ro.db_dir, package));
  if (!db) return base::PlainError("package " + package + " is not installed in " + dest);
  std::vector<Finding> changed;
  for (const auto& r : db->records) {
    std::string why;
    NSB_ASSIGN_OR_RETURN(bool same, Unchanged(ro.dest, r, &why));
    if (!same) changed.push_back({r.impl, r.path, "changed", why});
  }
  return changed;
}

}  // namespace nsbuild::merge
