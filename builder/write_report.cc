#include "builder/write_report.h"

#include <sys/stat.h>

#include <filesystem>
#include <map>

#include "base/escape.h"
#include "sandbox/write_watch.h"

namespace nsbuild::builder {

std::string FormatWriteSummary(const Plan& plan, const RunSummary& summary) {
  std::string out;
  for (const auto& node : plan.nodes) {
    const WriteRecord& w = summary.nodes[node.id].writes;
    if (w.ViolationCount() == 0) continue;
    std::string heading =
        plan.targets[node.target] + " " + node.PhaseName() + ": " +
        std::to_string(w.ViolationCount()) + " write(s) outside the allowed roots, denied" +
        (w.capture_dir.empty() ? "" : " (captured ones are in " + w.capture_dir + ")");
    out += sandbox::FormatViolations(w.violations, heading, w.violations_not_kept);
  }
  return out;
}

std::vector<HomeLeftover> ListHomeLeftovers(const std::string& home_dir) {
  namespace fs = std::filesystem;
  std::map<std::string, HomeLeftover> groups;
  std::error_code ec;
  fs::recursive_directory_iterator it(home_dir, fs::directory_options::skip_permission_denied, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    // Never followed: the iterator does not descend into symlinked dirs,
    // and lstat keeps a symlink a leftover of its own.
    struct stat st;
    if (::lstat(it->path().c_str(), &st) != 0 || S_ISDIR(st.st_mode)) continue;
    fs::path rel = it->path().lexically_relative(home_dir);
    fs::path key;
    int depth = 0;
    for (auto part = rel.begin(); part != rel.end() && depth < 2; ++part, ++depth) key /= *part;
    // The sandbox decides how many names there are: past the bound they
    // are counted in one group, so the map stays small.
    std::string name = key.string();
    if (groups.size() >= kMaxHomeLeftoverGroups && !groups.count(name)) name = kOtherLeftovers;
    HomeLeftover& g = groups[name];
    g.path = name;
    ++g.files;
    g.bytes += S_ISREG(st.st_mode) ? static_cast<uint64_t>(st.st_size) : 0;
  }
  std::vector<HomeLeftover> out;
  for (auto& kv : groups) out.push_back(std::move(kv.second));
  return out;
}

std::string FormatHomeLeftovers(const std::string& target, const std::vector<HomeLeftover>& left) {
  if (left.empty()) return "";
  uint64_t files = 0;
  std::string list;
  for (const auto& l : left) {
    files += l.files;
    if (!list.empty()) list += ", ";
    list += base::EscapeLine(l.path) + " (" + std::to_string(l.files) + " file" +
            (l.files == 1 ? "" : "s") + ", " + std::to_string((l.bytes + 1023) / 1024) + " KiB)";
  }
  return "notice: " + target + " left " + std::to_string(files) + " file(s) in its private HOME: " +
         list + "\n";
}

}  // namespace nsbuild::builder
