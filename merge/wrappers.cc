#include "merge/wrappers.h"

#include <algorithm>
#include <map>
#include <set>

#include "merge/fd_walk.h"

namespace nsbuild::merge {
namespace {

std::string BaseName(const std::string& p) { return p.substr(p.rfind('/') + 1); }

std::vector<std::string> ShebangWords(const std::string& head) {
  std::vector<std::string> words;
  if (head.rfind("#!", 0) != 0) return words;
  std::string line = head.substr(2, head.find('\n') - 2);
  size_t pos = 0;
  while (pos < line.size()) {
    size_t start = line.find_first_not_of(" \t", pos);
    if (start == std::string::npos) break;
    size_t end = line.find_first_of(" \t", start);
    words.push_back(line.substr(start, end - start));
    pos = end == std::string::npos ? line.size() : end;
  }
  return words;
}

PlanItem Generated(std::string path, EntryType type, mode_t perm) {
  PlanItem it;
  it.path = std::move(path);
  it.type = type;
  it.perm = perm;
  return it;
}

}  // namespace

bool ShebangNames(const std::string& head, const std::string& impl) {
  auto words = ShebangWords(head);
  if (words.empty() || impl.empty()) return false;
  size_t k = 0;
  if (BaseName(words[0]) == "env") {
    for (k = 1; k < words.size() && words[k][0] == '-';) ++k;
    if (k == words.size()) return false;
  }
  return BaseName(words[k]) == impl;
}

std::string RelativeTarget(const std::string& from_dir, const std::string& to) {
  size_t common = 0;
  for (size_t i = 0; i <= from_dir.size() && i <= to.size(); ++i) {
    bool end_from = i == from_dir.size() || from_dir[i] == '/';
    bool end_to = i == to.size() || to[i] == '/';
    if (end_from && end_to) common = i;
    if (i == from_dir.size() || i == to.size() || from_dir[i] != to[i]) break;
  }
  std::string up;
  for (size_t i = common; i < from_dir.size(); ++i) {
    if (from_dir[i] == '/' || i == common) up += "../";
  }
  std::string rest = to.substr(common);
  if (!rest.empty() && rest[0] == '/') rest.erase(0, 1);
  return up + rest;
}

void WrapExecutables(std::vector<std::vector<PlanItem>>* per_image,
                     const std::vector<ScannedImage>& images, const WrapRequest& req,
                     std::vector<PlanItem>* generated, std::vector<std::string>* wrapped) {
  std::map<std::string, std::set<std::string>> impls_of;  // "DIR/NAME" → impls
  for (size_t i = 0; i < images.size(); ++i) {
    const std::string& impl = images[i].impl;
    if (impl.empty()) continue;
    for (size_t k = 0; k < (*per_image)[i].size(); ++k) {
      PlanItem& it = (*per_image)[i][k];
      const ImageEntry& e = images[i].entries[k];
      auto [dir, name] = SplitParent(it.path);
      if (it.type != EntryType::kFile || !(it.perm & 0111)) continue;
      if (std::find(req.dirs.begin(), req.dirs.end(), dir) == req.dirs.end()) continue;
      if (!e.is_elf && !ShebangNames(e.head, impl)) continue;
      it.path = JoinRel(JoinRel(std::string(kExecDir), impl), name);
      impls_of[JoinRel(dir, name)].insert(impl);
    }
  }
  if (impls_of.empty()) return;
  PlanItem disp = Generated(kDispatcherPath, EntryType::kFile, 0755);
  disp.content = req.dispatcher;
  disp.size = static_cast<int64_t>(disp.content.size());
  disp.shared = true;
  generated->push_back(std::move(disp));
  std::vector<int> rank = RankImages(images, req.impl_order);
  for (const auto& [prog, impls] : impls_of) {
    auto [dir, name] = SplitParent(prog);
    PlanItem link = Generated(prog, EntryType::kSymlink, 0777);
    link.target = RelativeTarget(dir, kDispatcherPath);
    generated->push_back(std::move(link));
    PlanItem order = Generated(JoinRel(kOrderDir, name), EntryType::kFile, 0644);
    for (int idx : rank) {
      if (impls.count(images[idx].impl)) order.content += images[idx].impl + "\n";
    }
    order.size = static_cast<int64_t>(order.content.size());
    generated->push_back(std::move(order));
    wrapped->push_back(prog);
  }
}

}  // namespace nsbuild::merge
