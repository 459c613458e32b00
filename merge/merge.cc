#include "merge/merge.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "base/clock.h"
#include "base/fs.h"
#include "base/sha256.h"
#include "merge/content.h"
#include "merge/database.h"
#include "merge/dest_plan.h"
#include "merge/dist_info.h"
#include "merge/image_scan.h"
#include "merge/plan.h"
#include "merge/retire.h"
#include "merge/seal.h"
#include "merge/transaction.h"
#include "merge/wrappers.h"

namespace nsbuild::merge {
namespace {

// NSBUILD_MERGE_TIMES=1 prints how long each phase took, for profiling.
class PhaseTimer {
 public:
  PhaseTimer() : on_(std::getenv("NSBUILD_MERGE_TIMES") != nullptr) {}
  void Mark(const char* phase) {
    if (!on_) return;
    std::fprintf(stderr, "nsbuild merge: %-8s %7.3f s\n", phase, lap_.Lap());
  }

 private:
  bool on_;
  base::Stopwatch lap_;
};

std::string DefaultPackage(const std::string& image) {
  std::string p = image;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p.substr(p.rfind('/') + 1);
}

base::Status ValidateImages(const std::vector<ImageSpec>& specs,
                            const std::vector<std::string>& order = {}) {
  if (specs.empty()) return base::PlainError("no image given");
  for (const auto& name : order) {
    if (std::none_of(specs.begin(), specs.end(),
                     [&](const ImageSpec& s) { return s.impl == name; })) {
      return base::PlainError("the preference order names " + name + ", which no image is");
    }
  }
  for (size_t i = 0; i < specs.size(); ++i) {
    for (size_t k = 0; k < i; ++k) {
      if (specs[i].impl == specs[k].impl && !specs[i].impl.empty()) {
        return base::PlainError("implementation " + specs[i].impl + " is named twice");
      }
    }
    if (specs.size() > 1 && specs[i].impl.empty()) {
      return base::PlainError("several images need names: IMPL=PATH (" + specs[i].path + ")");
    }
  }
  return {};
}

// Scan, seal directories (when merging), read contents (sealing files),
// then check. The content pass comes before the checks because it is where
// a file's xattrs are listed; it never seals or reads a file linked from
// outside the image.
base::Result<std::vector<ScannedImage>> ScanAll(const std::vector<ImageSpec>& specs,
                                                const MergePolicy& policy, const SealOptions* seal,
                                                bool hash, MergeReport* rep) {
  std::vector<ScannedImage> images;
  PhaseTimer timer;
  for (const auto& s : specs) {
    if (auto into = MergedInto(s.path)) {
      rep->rejections.push_back({s.impl, "/", "reject",
                                 "already merged into " + *into +
                                     "; the image was emptied then: build again to merge again"});
      continue;
    }
    auto img = ScanImage(s.path, s.impl, ScanLimits{static_cast<int>(policy.max_depth)});
    if (!img.ok()) return base::Wrap(img.take_error(), "image");
    timer.Mark("walk");
    if (seal) NSB_TRY(SealImage(*img, policy, *seal));
    timer.Mark("seal");
    NSB_TRY(ReadContents(*img, policy, ContentOptions{hash, 0, seal}, &rep->notices));
    timer.Mark("content");
    CheckImage(*img, policy, &rep->rejections, &rep->notices);
    timer.Mark("check");
    images.push_back(std::move(*img));
  }
  for (const auto& n : rep->notices) {
    if (policy.NoticeIsFatal(n.kind)) rep->rejections.push_back(n);
  }
  std::erase_if(rep->notices, [&](const Finding& n) { return policy.NoticeIsFatal(n.kind); });
  return images;
}

base::Result<std::vector<PlanItem>> BuildItems(const MergeRequest& req,
                                               const std::vector<ScannedImage>& images,
                                               MergeReport* rep) {
  auto per_image = ItemsOf(images);
  std::vector<PlanItem> generated;
  bool named = std::any_of(images.begin(), images.end(),
                           [](const ScannedImage& i) { return !i.impl.empty(); });
  if (!req.wrapped_dirs.empty() && named) {
    WrapRequest wr{req.wrapped_dirs, req.impl_order, ""};
    auto bytes = base::ReadFile(req.dispatcher_path);
    if (!bytes.ok()) return base::Wrap(bytes.take_error(), "the nsbuild-exec dispatcher");
    wr.dispatcher = std::move(*bytes);
    WrapExecutables(&per_image, images, wr, &generated, &rep->wrapped);
  }
  if (named) MergeDistInfo(&per_image, images, req.impl_order, &generated, &rep->notices);
  auto items = ResolveImplementations(std::move(per_image), images, req.impl_order, &rep->conflicts,
                                      &rep->preferred);
  bool any_generated = !generated.empty();
  for (auto& g : generated) {
    if (g.type == EntryType::kFile) g.sha256 = base::Sha256Hex(g.content);
    g.mtime = req.source_date_epoch.value_or(0);
    items.push_back(std::move(g));
  }
  if (images.size() > 1 || any_generated) AddMissingParents(&items);
  for (size_t i = 1; i < items.size(); ++i) {
    if (items[i].path == items[i - 1].path) {
      rep->conflicts.push_back({items[i].impl, "/" + items[i].path, "reject",
                                "a wrapped program's generated file collides with the image"});
    }
  }
  return items;
}

// The installed package of that name came from elsewhere: another recipe
// reusing its name would take over its files. Only the operator's
// --replace lets it.
std::optional<Finding> OriginConflict(const std::vector<PackageDb>& dbs, const std::string& pkg,
                                      const MergeRequest& req) {
  for (const auto& db : dbs) {
    if (db.package != pkg || db.origin == req.origin || req.replace) continue;
    std::string old = db.origin.empty() ? "an unrecorded origin" : db.origin;
    return Finding{"", "/" + std::string(kDbDir) + "/" + pkg + ".json", "collision",
                   "package " + pkg + " is installed from " + old + ", this merge comes from " +
                       req.origin + ": another package reusing the name? --replace replaces it"};
  }
  return std::nullopt;
}

}  // namespace

base::Result<MergeReport> MergeImages(const MergeRequest& req) {
  MergeReport rep;
  NSB_TRY(ValidateImages(req.images, req.impl_order));
  rep.package = req.package.empty() ? DefaultPackage(req.images.front().path) : req.package;
  NSB_TRY(ValidatePackageName(rep.package));
  SealOptions seal{req.source_date_epoch};
  PhaseTimer timer;
  NSB_ASSIGN_OR_RETURN(std::vector<ScannedImage> images,
                       ScanAll(req.images, req.policy, req.seal ? &seal : nullptr, req.hash, &rep));
  timer.Mark("scan");
  if (!rep.ok()) return rep;
  NSB_ASSIGN_OR_RETURN(std::vector<PlanItem> items, BuildItems(req, images, &rep));
  timer.Mark("resolve");
  if (!rep.ok()) return rep;
  NSB_ASSIGN_OR_RETURN(DestLock lock, LockDestination(req.dest));
  rep.recovered = lock.recovered;
  NSB_ASSIGN_OR_RETURN(std::vector<PackageDb> dbs, LoadAllDbs(lock.db_dir));
  if (auto squat = OriginConflict(dbs, rep.package, req)) {
    rep.collisions.push_back(std::move(*squat));
    return rep;
  }
  NSB_ASSIGN_OR_RETURN(DestPlan plan,
                       PlanInstall(lock.dest, std::move(items), rep.package, dbs, req.policy));
  plan.new_db.origin = req.origin;
  plan.new_db.origin_sha256 = req.origin_sha256;
  timer.Mark("plan");
  rep.collisions = plan.collisions;
  rep.config_new = plan.config_new;
  rep.kept = plan.kept;
  if (!rep.ok()) return rep;
  if (req.before_execute) req.before_execute();
  NSB_TRY(Execute(lock, plan, images, req.policy));
  timer.Mark("execute");
  rep.operations = plan.ops.size();
  rep.merged = true;
  std::unique_ptr<char, decltype(&std::free)> abs(::realpath(req.dest.c_str(), nullptr),
                                                  &std::free);
  for (const auto& img : images) {
    if (!req.retire_images) break;
    if (auto s = RetireImage(img, abs ? abs.get() : req.dest, rep.package); !s.ok()) {
      rep.retire_error = s.error().Message();
    }
  }
  timer.Mark("retire");
  return rep;
}

base::Result<MergeReport> CheckImages(const std::vector<ImageSpec>& images,
                                      const MergePolicy& policy) {
  MergeReport rep;
  NSB_TRY(ValidateImages(images));
  NSB_ASSIGN_OR_RETURN(std::vector<ScannedImage> scanned,
                       ScanAll(images, policy, nullptr, true, &rep));
  (void)scanned;
  return rep;
}

base::Result<std::string> RecoverDest(const std::string& dest) {
  NSB_ASSIGN_OR_RETURN(DestLock lock, LockDestination(dest));
  return lock.recovered;
}

}  // namespace nsbuild::merge
