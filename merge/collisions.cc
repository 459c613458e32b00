// Collisions between implementations (plan.h). Collisions with the
// destination are dest_plan.cc's.
#include <algorithm>
#include <map>
#include <set>

#include "merge/content.h"
#include "merge/fd_walk.h"
#include "merge/plan.h"

namespace nsbuild::merge {
namespace {

// Hashes lazily when the content pass ran without hashing.
std::string HashOf(const PlanItem& it, const std::vector<ScannedImage>& images) {
  if (!it.sha256.empty() || it.image < 0) return it.sha256;
  auto h = HashBeneath(images[it.image].root, it.src);
  return h.ok() ? *h : "unreadable:" + it.src;
}

std::string Difference(const PlanItem& a, const PlanItem& b,
                       const std::vector<ScannedImage>& images) {
  if (a.type != b.type) {
    return std::string("a ") + EntryTypeName(a.type) + " in one, a " + EntryTypeName(b.type) +
           " in the other";
  }
  if (a.perm != b.perm) return "modes differ";
  if (a.type == EntryType::kSymlink && a.target != b.target) return "symlink targets differ";
  if (a.type == EntryType::kFile && (a.size != b.size || HashOf(a, images) != HashOf(b, images))) {
    return "contents differ";
  }
  return "";
}

// One image's symlink (or file) may win a path under which another image
// has files: those would have to be created "through" the symlink. The
// destination walk would refuse at run time; refuse here, before anything.
void RejectPathsThroughNonDirs(const std::vector<PlanItem>& items,
                               std::vector<Finding>* conflicts) {
  std::map<std::string_view, const PlanItem*> by_path;
  for (const auto& it : items) by_path[it.path] = &it;
  for (const auto& it : items) {
    auto slash = it.path.rfind('/');
    if (slash == std::string::npos) continue;
    auto parent = by_path.find(std::string_view(it.path).substr(0, slash));
    if (parent == by_path.end() || parent->second->type == EntryType::kDir) continue;
    conflicts->push_back({it.impl, "/" + it.path, "reject",
                          "is inside /" + std::string(parent->first) + ", which is a " +
                              EntryTypeName(parent->second->type) + " in implementation " +
                              parent->second->impl});
  }
}

}  // namespace

std::vector<std::vector<PlanItem>> ItemsOf(const std::vector<ScannedImage>& images) {
  std::vector<std::vector<PlanItem>> out(images.size());
  for (size_t i = 0; i < images.size(); ++i) {
    for (const auto& e : images[i].entries) {
      PlanItem it;
      it.path = e.path;
      it.type = e.type;
      it.perm = e.mode & 07777;
      it.size = e.type == EntryType::kFile ? e.size : 0;
      it.mtime = e.mtime;
      it.sha256 = e.sha256;
      it.target = e.target;
      it.impl = images[i].impl;
      it.image = static_cast<int>(i);
      it.src = e.path;
      it.src_pin = e.pin;
      if (e.type == EntryType::kSymlink) {  // what execute links: this inode, no other
        it.src_pin.dev = e.dev;
        it.src_pin.ino = e.ino;
      }
      out[i].push_back(std::move(it));
    }
  }
  return out;
}

std::vector<int> RankImages(const std::vector<ScannedImage>& images,
                            const std::vector<std::string>& order) {
  std::vector<int> ranked;
  for (const auto& name : order) {
    for (size_t i = 0; i < images.size(); ++i) {
      if (images[i].impl == name) ranked.push_back(static_cast<int>(i));
    }
  }
  for (size_t i = 0; i < images.size(); ++i) {
    if (std::find(ranked.begin(), ranked.end(), static_cast<int>(i)) == ranked.end()) {
      ranked.push_back(static_cast<int>(i));
    }
  }
  return ranked;
}

std::vector<PlanItem> ResolveImplementations(std::vector<std::vector<PlanItem>> per_image,
                                             const std::vector<ScannedImage>& images,
                                             const std::vector<std::string>& order,
                                             std::vector<Finding>* conflicts,
                                             std::vector<Finding>* overridden) {
  // One image: nothing to resolve, and the scan's pre-order already puts
  // every directory before what it holds.
  if (per_image.size() == 1) return std::move(per_image.front());
  auto in_order = [&](const std::string& impl) {
    return std::find(order.begin(), order.end(), impl) != order.end();
  };
  std::map<std::string, std::vector<PlanItem>> by_path;
  for (int idx : RankImages(images, order)) {
    for (auto& it : per_image[idx]) by_path[it.path].push_back(std::move(it));
  }
  std::vector<PlanItem> out;
  for (auto& [path, cands] : by_path) {
    const PlanItem& best = cands.front();
    for (size_t k = 1; k < cands.size(); ++k) {
      std::string diff = Difference(best, cands[k], images);
      if (diff.empty()) continue;
      Finding f{best.impl, "/" + path, "reject",
                diff + " between implementations " + best.impl + " and " + cands[k].impl};
      if (in_order(best.impl) && in_order(cands[k].impl)) {
        f.kind = "preferred";
        f.reason = diff + ": " + best.impl + " preferred over " + cands[k].impl;
        overridden->push_back(std::move(f));
      } else {
        f.reason += " (declare a preference order to pick one)";
        conflicts->push_back(std::move(f));
      }
    }
    out.push_back(std::move(cands.front()));
  }
  RejectPathsThroughNonDirs(out, conflicts);
  return out;
}

void AddMissingParents(std::vector<PlanItem>* items) {
  std::set<std::string> have;
  for (const auto& it : *items) have.insert(it.path);
  std::vector<PlanItem> extra;
  for (const auto& it : *items) {
    std::string p = it.path;
    for (auto slash = p.rfind('/'); slash != std::string::npos; slash = p.rfind('/')) {
      p.resize(slash);
      if (!have.insert(p).second) break;
      PlanItem d;
      d.path = p;
      d.type = EntryType::kDir;
      d.perm = 0755;
      extra.push_back(std::move(d));
    }
  }
  items->insert(items->end(), extra.begin(), extra.end());
  std::sort(items->begin(), items->end(),
            [](const PlanItem& a, const PlanItem& b) { return a.path < b.path; });
}

}  // namespace nsbuild::merge
