#include "merge/merge.h"

#include <algorithm>

#include "base/fs.h"
#include "merge/content.h"
#include "merge/database.h"
#include "merge/dest_plan.h"
#include "merge/image_scan.h"
#include "merge/plan.h"
#include "merge/seal.h"
#include "merge/transaction.h"
#include "merge/wrappers.h"

namespace nsbuild::merge {
namespace {

std::string DefaultPackage(const std::string& image) {
  std::string p = image;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p.substr(p.rfind('/') + 1);
}

base::Status ValidateImages(const std::vector<ImageSpec>& specs) {
  if (specs.empty()) return base::PlainError("no image given");
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

// Scan, seal (when merging) and check each image; content pass last so a
// rejected image is not read in full.
base::Result<std::vector<Image>> ScanAll(const std::vector<ImageSpec>& specs,
                                         const MergePolicy& policy, const SealOptions* seal,
                                         bool hash, MergeReport* rep) {
  std::vector<Image> images;
  for (const auto& s : specs) {
    auto img = ScanImage(s.path, s.impl, ScanLimits{static_cast<int>(policy.max_depth)});
    if (!img.ok()) return base::Wrap(img.take_error(), "image");
    if (seal) NSB_TRY(SealImage(*img, policy, *seal));
    CheckImage(*img, policy, &rep->rejections, &rep->notices);
    images.push_back(std::move(*img));
  }
  if (!rep->rejections.empty()) return images;
  for (auto& img : images) {
    NSB_TRY(ReadContents(img, policy, ContentOptions{hash, 0}, &rep->notices));
  }
  for (const auto& n : rep->notices) {
    if (policy.NoticeIsFatal(n.kind)) rep->rejections.push_back(n);
  }
  std::erase_if(rep->notices, [&](const Finding& n) { return policy.NoticeIsFatal(n.kind); });
  return images;
}

base::Result<std::vector<PlanItem>> BuildItems(const MergeRequest& req,
                                               const std::vector<Image>& images,
                                               MergeReport* rep) {
  auto per_image = ItemsOf(images);
  std::vector<PlanItem> generated;
  bool named = std::any_of(images.begin(), images.end(), [](const Image& i) { return !i.impl.empty(); });
  if (!req.wrapped_dirs.empty() && named) {
    WrapRequest wr{req.wrapped_dirs, req.impl_order, ""};
    auto bytes = base::ReadFile(req.dispatcher_path);
    if (!bytes.ok()) return base::Wrap(bytes.take_error(), "the nsbuild-exec dispatcher");
    wr.dispatcher = std::move(*bytes);
    WrapExecutables(&per_image, images, wr, &generated, &rep->wrapped);
  }
  auto items = ResolveImplementations(std::move(per_image), images, req.impl_order,
                                      &rep->conflicts, &rep->preferred);
  for (auto& g : generated) {
    if (g.type == EntryType::kFile) g.sha256 = Sha256Hex(g.content);
    g.mtime = req.source_date_epoch.value_or(0);
    items.push_back(std::move(g));
  }
  AddMissingParents(&items);
  for (size_t i = 1; i < items.size(); ++i) {
    if (items[i].path == items[i - 1].path) {
      rep->conflicts.push_back({items[i].impl, "/" + items[i].path, "reject",
                                "a wrapped program's generated file collides with the image"});
    }
  }
  return items;
}

}  // namespace

base::Result<MergeReport> MergeImages(const MergeRequest& req) {
  MergeReport rep;
  NSB_TRY(ValidateImages(req.images));
  rep.package = req.package.empty() ? DefaultPackage(req.images.front().path) : req.package;
  NSB_TRY(ValidatePackageName(rep.package));
  SealOptions seal{req.source_date_epoch};
  NSB_ASSIGN_OR_RETURN(std::vector<Image> images,
                       ScanAll(req.images, req.policy, req.seal ? &seal : nullptr, req.hash, &rep));
  if (!rep.ok()) return rep;
  NSB_ASSIGN_OR_RETURN(std::vector<PlanItem> items, BuildItems(req, images, &rep));
  if (!rep.ok()) return rep;
  NSB_ASSIGN_OR_RETURN(DestLock lock, LockDestination(req.dest));
  rep.recovered = lock.recovered;
  NSB_ASSIGN_OR_RETURN(std::vector<PackageDb> dbs, LoadAllDbs(lock.db_dir));
  NSB_ASSIGN_OR_RETURN(DestPlan plan,
                       PlanInstall(lock.dest, std::move(items), rep.package, dbs, req.policy));
  rep.collisions = plan.collisions;
  rep.config_new = plan.config_new;
  rep.kept = plan.kept;
  if (!rep.ok()) return rep;
  if (req.before_execute) req.before_execute();
  NSB_TRY(Execute(lock, plan, images, req.policy));
  rep.operations = plan.ops.size();
  rep.merged = true;
  return rep;
}

base::Result<MergeReport> CheckImages(const std::vector<ImageSpec>& images,
                                      const MergePolicy& policy) {
  MergeReport rep;
  NSB_TRY(ValidateImages(images));
  NSB_ASSIGN_OR_RETURN(std::vector<Image> scanned, ScanAll(images, policy, nullptr, true, &rep));
  (void)scanned;
  return rep;
}

base::Result<std::string> RecoverDest(const std::string& dest) {
  NSB_ASSIGN_OR_RETURN(DestLock lock, LockDestination(dest));
  return lock.recovered;
}

}  // namespace nsbuild::merge
