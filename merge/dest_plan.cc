#include "merge/dest_plan.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <set>

#include "merge/content.h"
#include "merge/fd_walk.h"

namespace nsbuild::merge {
namespace {

using base::BorrowedFd;

EntryType TypeOfMode(mode_t m) {
  return S_ISREG(m)   ? EntryType::kFile
         : S_ISDIR(m) ? EntryType::kDir
         : S_ISLNK(m) ? EntryType::kSymlink
                      : EntryType::kOther;
}

const DbRecord* Find(const std::optional<PackageDb>& db, const std::string& abs) {
  if (!db) return nullptr;
  auto it = std::lower_bound(db->records.begin(), db->records.end(), abs,
                             [](const DbRecord& r, const std::string& p) { return r.path < p; });
  return it != db->records.end() && it->path == abs ? &*it : nullptr;
}

DbRecord RecordOf(const PlanItem& it) {
  DbRecord r;
  r.path = "/" + it.path;
  r.type = it.type;
  r.perm = it.perm;
  r.size = it.size;
  r.sha256 = it.sha256;
  r.mtime = it.mtime;
  r.target = it.target;
  r.impl = it.impl;
  r.shared = it.shared;
  return r;
}

std::string NewConfigName(const std::string& path) {
  auto [dir, name] = SplitParent(path);
  return JoinRel(dir, "._new_" + name);
}

class Planner {
 public:
  Planner(BorrowedFd dest, const std::string& pkg, const std::vector<PackageDb>& dbs,
          const MergePolicy& p)
      : dest_(dest), policy_(p), owners_(OwnerIndex(dbs)) {
    plan_.package = pkg;
    for (const auto& db : dbs) {
      if (db.package == pkg) old_ = db;
    }
  }

  base::Result<DestPlan> Run(std::vector<PlanItem> items) {
    std::vector<Op> dirs, files;
    for (auto& it : items) {
      plan_.items.push_back(std::move(it));
      NSB_TRY(Item(static_cast<int>(plan_.items.size()) - 1, &dirs, &files));
    }
    std::vector<Op> removes, rmdirs;
    NSB_TRY(Removals(&removes, &rmdirs));
    for (auto* v : {&dirs, &files, &removes, &rmdirs}) {
      plan_.ops.insert(plan_.ops.end(), v->begin(), v->end());
    }
    plan_.new_db.package = plan_.package;
    for (const auto& it : plan_.items) plan_.new_db.records.push_back(RecordOf(it));
    for (const auto& k : plan_.kept) {
      if (const DbRecord* r = Find(old_, k)) plan_.new_db.records.push_back(*r);
    }
    std::sort(plan_.new_db.records.begin(), plan_.new_db.records.end(),
              [](const DbRecord& a, const DbRecord& b) { return a.path < b.path; });
    return std::move(plan_);
  }

 private:
  bool OwnedByOther(const std::string& abs) const {
    auto it = owners_.find(abs);
    if (it == owners_.end()) return false;
    for (const auto& o : it->second) {
      if (o != plan_.package) return true;
    }
    return false;
  }

  void Collide(const std::string& abs, std::string why) {
    plan_.collisions.push_back({"", abs, "collision", std::move(why)});
  }

  // lstat in the destination. Inside a directory this plan creates nothing
  // exists yet, which spares a fresh destination one lookup per file; the
  // last parent directory stays open for its siblings.
  base::Result<bool> Lstat(const std::string& rel, struct stat* st) {
    auto [parent, name] = SplitParent(rel);
    if (new_dirs_.count(parent)) return false;
    if (!parent_fd_ || parent != parent_) {
      parent_ = parent;
      auto fd = OpenDirBeneath(dest_, parent);
      if (!fd.ok() && fd.error().errnum != ENOENT && fd.error().errnum != ENOTDIR) {
        return fd.take_error();
      }
      parent_fd_ = fd.ok() ? std::move(*fd) : base::UniqueFd();
      if (!parent_fd_) return false;
    }
    if (::fstatat(parent_fd_.get(), name.c_str(), st, AT_SYMLINK_NOFOLLOW) == 0) return true;
    if (errno == ENOENT) return false;
    return base::ErrnoError("lstat /" + rel + " in the destination");
  }

  base::Status Item(int idx, std::vector<Op>* dirs, std::vector<Op>* files) {
    PlanItem& it = plan_.items[idx];
    std::string abs = "/" + it.path;
    struct stat st;
    NSB_ASSIGN_OR_RETURN(bool exists, Lstat(it.path, &st));
    if (it.type == EntryType::kDir) {
      if (!exists) {
        dirs->push_back({OpKind::kMkdir, it.path, idx, it.perm});
        new_dirs_.insert(it.path);
      }
      if (exists && !S_ISDIR(st.st_mode))
        Collide(abs, "the package has a directory here, the destination has not");
      return {};
    }
    if (!exists) {
      files->push_back({OpKind::kAdd, it.path, idx, 0});
      return {};
    }
    if (S_ISDIR(st.st_mode)) {
      Collide(abs, "the destination has a directory here");
      return {};
    }
    return Existing(idx, st, files);
  }

  // A file or symlink already at the item's path.
  base::Status Existing(int idx, const struct stat& st, std::vector<Op>* files) {
    PlanItem& it = plan_.items[idx];
    std::string abs = "/" + it.path;
    const DbRecord* mine = Find(old_, abs);
    if (it.shared && TypeOfMode(st.st_mode) == it.type) {
      files->push_back({OpKind::kReplace, it.path, idx, 0});
      return {};
    }
    if (OwnedByOther(abs)) {
      Collide(abs, "already installed by package " + owners_.at(abs).front());
      return {};
    }
    if (!mine) {
      Collide(abs, "already exists and belongs to no package");
      return {};
    }
    std::string why;
    NSB_ASSIGN_OR_RETURN(bool same, Unchanged(dest_, *mine, &why));
    if (!same && UnderPrefix(abs, policy_.protected_config)) {
      plan_.config_new.push_back(abs);
      // The admin's file stays; the package's version goes beside it.
      PlanItem moved = it;
      moved.path = NewConfigName(it.path);
      struct stat st2;
      NSB_ASSIGN_OR_RETURN(bool there, LstatBeneath(dest_, moved.path, &st2));
      plan_.items.push_back(std::move(moved));
      int nidx = static_cast<int>(plan_.items.size()) - 1;
      files->push_back({there ? OpKind::kReplace : OpKind::kAdd, plan_.items[nidx].path, nidx, 0});
      return {};
    }
    files->push_back({OpKind::kReplace, it.path, idx, 0});
    return {};
  }

  // What the installed version has and this one does not: only an update
  // has any, so a first install builds no set of every path.
  base::Status Removals(std::vector<Op>* removes, std::vector<Op>* rmdirs) {
    if (!old_) return {};
    std::set<std::string> shipped;
    for (const auto& it : plan_.items) shipped.insert("/" + it.path);
    for (auto r = old_->records.rbegin(); r != old_->records.rend(); ++r) {
      if (shipped.count(r->path) || OwnedByOther(r->path)) continue;
      std::string rel = r->path.substr(1);
      if (r->type == EntryType::kDir) {
        rmdirs->push_back({OpKind::kRmdir, rel, -1, r->perm});
        continue;
      }
      std::string why;
      auto same = Unchanged(dest_, *r, &why);
      if (!same.ok()) return same.take_error();
      if (!*same && why == "missing") continue;
      if (!*same) {
        plan_.kept.push_back(r->path);
        continue;
      }
      removes->push_back({OpKind::kRemove, rel, -1, 0});
    }
    return {};
  }

  BorrowedFd dest_;
  const MergePolicy& policy_;
  std::map<std::string, std::vector<std::string>> owners_;
  std::optional<PackageDb> old_;
  DestPlan plan_;
  std::set<std::string> new_dirs_;
  base::UniqueFd parent_fd_;
  std::string parent_;
};

}  // namespace

const char* OpKindName(OpKind k) {
  switch (k) {
    case OpKind::kMkdir:
      return "mkdir";
    case OpKind::kAdd:
      return "add";
    case OpKind::kReplace:
      return "replace";
    case OpKind::kRemove:
      return "remove";
    case OpKind::kRmdir:
      return "rmdir";
  }
  return "?";
}

base::Result<bool> Unchanged(BorrowedFd dest, const DbRecord& r, std::string* why) {
  struct stat st;
  std::string rel = r.path.substr(1);
  NSB_ASSIGN_OR_RETURN(bool exists, LstatBeneath(dest, rel, &st));
  if (!exists) return (*why = "missing", false);
  if (TypeOfMode(st.st_mode) != r.type) return (*why = "type changed", false);
  if (r.type != EntryType::kSymlink && (st.st_mode & 07777) != r.perm) {
    return (*why = "mode changed", false);
  }
  if (r.type == EntryType::kSymlink) {
    auto [parent, name] = SplitParent(rel);
    NSB_ASSIGN_OR_RETURN(base::UniqueFd dir, OpenDirBeneath(dest, parent));
    char buf[4096];
    ssize_t n = ::readlinkat(dir.get(), name.c_str(), buf, sizeof buf);
    if (n < 0 || std::string(buf, static_cast<size_t>(n)) != r.target) {
      return (*why = "symlink target changed", false);
    }
  }
  if (r.type != EntryType::kFile) return true;
  if (st.st_size != r.size) return (*why = "size changed", false);
  if (r.sha256.empty()) return true;
  NSB_ASSIGN_OR_RETURN(std::string h, HashBeneath(dest, rel));
  if (h != r.sha256) return (*why = "content changed", false);
  return true;
}

base::Result<DestPlan> PlanInstall(BorrowedFd dest, std::vector<PlanItem> items,
                                   const std::string& package, const std::vector<PackageDb>& dbs,
                                   const MergePolicy& policy) {
  return Planner(dest, package, dbs, policy).Run(std::move(items));
}

base::Result<DestPlan> PlanUninstall(BorrowedFd dest, const std::string& package,
                                     const std::vector<PackageDb>& dbs) {
  MergePolicy unused;
  NSB_ASSIGN_OR_RETURN(DestPlan plan, Planner(dest, package, dbs, unused).Run({}));
  plan.delete_db = true;
  return plan;
}

}  // namespace nsbuild::merge
