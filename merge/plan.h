// What the merged package will contain, before the destination is looked
// at: one item per path, chosen among the implementations' images. Built
// from the checked images, rewritten by the exec wrappers, then compared
// with the destination (dest_plan.h).
#pragma once

#include <string>
#include <vector>

#include "merge/checks.h"
#include "merge/image_scan.h"

namespace nsbuild::merge {

struct PlanItem {
  std::string path;  // destination-relative, no leading '/'
  EntryType type = EntryType::kFile;
  mode_t perm = 0;
  int64_t size = 0;
  int64_t mtime = 0;
  std::string sha256;
  std::string target;   // symlinks
  std::string impl;     // image it comes from ("" when generated)
  int image = -1;       // index of the source image; -1 when generated
  std::string src;      // path inside that image
  std::string content;  // bytes of a generated file
  bool shared = false;  // may also be listed by other packages
  Pin src_pin;          // the sealed, hashed inode (symlinks: dev, ino); re-checked before linking
};

// The images' entries as plan items, one vector per image.
std::vector<std::vector<PlanItem>> ItemsOf(const std::vector<ScannedImage>& images);

// The implementations ranked: those named in `order` first, in that order,
// then the rest in command-line order. Returns image indexes.
std::vector<int> RankImages(const std::vector<ScannedImage>& images,
                            const std::vector<std::string>& order);

// Merges the per-image items into one list sorted by path. Identical entries
// (type, mode, content) merge once; a difference is a conflict naming both
// implementations unless both are in `order`, when the better ranked wins.
// `images` is used to compare contents when hashes were skipped.
std::vector<PlanItem> ResolveImplementations(std::vector<std::vector<PlanItem>> per_image,
                                             const std::vector<ScannedImage>& images,
                                             const std::vector<std::string>& order,
                                             std::vector<Finding>* conflicts,
                                             std::vector<Finding>* overridden);

// Adds a 0755 directory item for every missing ancestor and sorts by path,
// so that a directory always precedes what it holds.
void AddMissingParents(std::vector<PlanItem>* items);

}  // namespace nsbuild::merge
