#include "merge/dist_info.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "base/fs.h"
#include "base/sha256.h"
#include "merge/content.h"
#include "merge/fd_walk.h"

namespace nsbuild::merge {
namespace {

constexpr size_t kMaxMetadataBytes = 64 << 20;  // a RECORD of a million files

bool IsSharedMetadata(const PlanItem& it) {
  if (it.type != EntryType::kFile) return false;
  auto [dir, name] = SplitParent(it.path);
  return dir.ends_with(".dist-info") && (name == "RECORD" || name == "WHEEL");
}

// The file as the image holds it: by fd, never following a symlink, bounded.
base::Result<std::string> ReadFromImage(const ScannedImage& img, const std::string& rel) {
  auto [parent, name] = SplitParent(rel);
  NSB_ASSIGN_OR_RETURN(base::UniqueFd dir,
                       OpenDirBeneath(base::BorrowedFd(img.root.get()), parent));
  bool truncated = false;
  NSB_ASSIGN_OR_RETURN(std::string text, base::ReadBounded(base::BorrowedFd(dir.get()), name,
                                                           kMaxMetadataBytes, &truncated));
  if (truncated) return base::PlainError(rel + ": larger than 64 MiB");
  return text;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) {
    if (!l.empty() && l.back() == '\r') l.pop_back();
    if (!l.empty()) out.push_back(l);
  }
  return out;
}

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

// The file each image would install at a path, best-ranked first.
using Index = std::map<std::string_view, const PlanItem*>;

std::string MergeRecord(const std::string& record_path, const std::vector<std::string>& texts,
                        const std::vector<const Index*>& ranked) {
  std::filesystem::path site =
      std::filesystem::path(SplitParent(SplitParent(record_path).first).first);
  std::set<std::string> seen;
  std::string out;
  for (const auto& text : texts) {
    for (const auto& line : Lines(text)) {
      auto f = RecordFields(line);
      if (f.empty() || f[0].empty()) continue;
      std::string rel = (site / f[0]).lexically_normal().string();
      if (rel.empty() || rel.rfind("..", 0) == 0 || rel[0] == '/') continue;  // not installed here
      if (!seen.insert(rel).second) continue;
      const PlanItem* it = nullptr;
      for (const Index* idx : ranked) {
        auto hit = idx->find(rel);
        if (hit != idx->end()) {
          it = hit->second;
          break;
        }
      }
      if (!it && rel != record_path) continue;  // the merge installs nothing there
      if (it && it->type == EntryType::kFile && !it->sha256.empty() && rel != record_path) {
        out +=
            CsvField(f[0]) + "," + RecordHash(it->sha256) + "," + std::to_string(it->size) + "\n";
      } else {
        out += CsvField(f[0]) + ",,\n";  // itself, a symlink (wrapped program), a file not hashed
      }
    }
  }
  return out;
}

// The RECORDs and WHEELs two or more images hold at one path, with those
// images best-ranked first; WHEELs first, as the merged RECORD lists the
// merged WHEEL's hash.
std::vector<std::pair<std::string, std::vector<int>>> SharedMetadata(
    const std::vector<std::vector<PlanItem>>& per_image, const std::vector<int>& rank) {
  std::map<std::string, std::vector<int>> holders;
  for (int idx : rank) {
    for (const auto& it : per_image[idx]) {
      if (IsSharedMetadata(it)) holders[it.path].push_back(idx);
    }
  }
  std::vector<std::pair<std::string, std::vector<int>>> out;
  for (auto& [path, idxs] : holders) {
    if (idxs.size() > 1) out.emplace_back(path, std::move(idxs));
  }
  std::stable_partition(out.begin(), out.end(),
                        [](const auto& h) { return h.first.ends_with("/WHEEL"); });
  return out;
}

std::optional<PlanItem> MergedFile(const std::string& path, const std::vector<int>& idxs,
                                   const std::vector<ScannedImage>& images,
                                   const std::vector<const Index*>& ranked,
                                   std::vector<Finding>* notices) {
  std::vector<std::string> texts;
  for (int idx : idxs) {
    auto text = ReadFromImage(images[idx], path);
    if (!text.ok()) return std::nullopt;
    texts.push_back(std::move(*text));
  }
  PlanItem g;
  g.path = path;
  g.type = EntryType::kFile;
  g.perm = 0644;
  if (path.ends_with("/RECORD")) {
    g.content = MergeRecord(path, texts, ranked);
  } else {
    std::string odd;
    g.content = MergeWheel(texts, &odd);
    const std::string& best = images[idxs[0]].impl;
    if (!odd.empty()) {
      notices->push_back({best, "/" + path, "dist-info",
                          "WHEEL differs between implementations beyond its Tag lines (" + odd +
                              "): " + best + "'s kept"});
    }
  }
  g.size = static_cast<int64_t>(g.content.size());
  g.sha256 = base::Sha256Hex(g.content);
  return g;
}

}  // namespace

std::vector<std::string> RecordFields(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted && c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
      out.back() += '"';
      ++i;
    } else if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      out.emplace_back();
    } else {
      out.back() += c;
    }
  }
  return out;
}

std::string RecordHash(const std::string& hex) {
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string bytes;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    bytes += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  std::string out = "sha256=";
  for (size_t i = 0; i < bytes.size(); i += 3) {
    uint32_t n = static_cast<uint8_t>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) n |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size()) n |= static_cast<uint8_t>(bytes[i + 2]);
    size_t chars = std::min<size_t>(4, (bytes.size() - i) * 8 / 6 + 1);
    for (size_t k = 0; k < chars; ++k) out += kAlphabet[(n >> (18 - 6 * k)) & 63];
  }
  return out;
}

std::string MergeWheel(const std::vector<std::string>& texts, std::string* odd) {
  if (texts.empty()) return "";
  std::vector<std::string> lines = Lines(texts[0]);
  for (size_t t = 1; t < texts.size(); ++t) {
    for (const auto& l : Lines(texts[t])) {
      if (std::find(lines.begin(), lines.end(), l) != lines.end()) continue;
      if (l.rfind("Root-Is-Purelib:", 0) == 0) {
        // One implementation installs compiled files: so does the merged whole.
        if (l == "Root-Is-Purelib: false")
          std::replace(lines.begin(), lines.end(), std::string("Root-Is-Purelib: true"), l);
        continue;
      }
      if (l.rfind("Tag:", 0) != 0) {
        *odd += (odd->empty() ? "" : "; ") + l;
        continue;
      }
      auto last_tag = std::find_if(lines.rbegin(), lines.rend(),
                                   [](const std::string& x) { return x.rfind("Tag:", 0) == 0; });
      lines.insert(last_tag.base(), l);
    }
  }
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

void MergeDistInfo(std::vector<std::vector<PlanItem>>* per_image,
                   const std::vector<ScannedImage>& images, const std::vector<std::string>& order,
                   std::vector<PlanItem>* generated, std::vector<Finding>* notices) {
  std::vector<int> rank = RankImages(images, order);
  auto todo = SharedMetadata(*per_image, rank);
  if (todo.empty()) return;
  std::vector<Index> index(images.size());
  for (size_t i = 0; i < images.size(); ++i) {
    for (const auto& it : (*per_image)[i]) index[i][it.path] = &it;
  }
  Index generated_index;  // the merged WHEELs, the wrappers' symlinks: before any image
  for (const auto& g : *generated) generated_index[g.path] = &g;
  std::vector<const Index*> ranked = {&generated_index};
  for (int idx : rank) ranked.push_back(&index[idx]);
  std::vector<PlanItem> merged;
  merged.reserve(todo.size());  // generated_index points into it
  for (const auto& [path, idxs] : todo) {
    auto g = MergedFile(path, idxs, images, ranked, notices);
    if (!g) continue;  // unreadable: left to the preference order, which reports it
    merged.push_back(std::move(*g));
    generated_index[merged.back().path] = &merged.back();
  }
  std::set<std::string> done;
  for (const auto& m : merged) done.insert(m.path);
  for (auto& items : *per_image) {
    std::erase_if(items, [&](const PlanItem& it) { return done.count(it.path) > 0; });
  }
  generated->insert(generated->end(), merged.begin(), merged.end());
}

}  // namespace nsbuild::merge
