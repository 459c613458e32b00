#include "builder/write_report.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <filesystem>
#include <map>

#include "base/dir_fd.h"
#include "base/escape.h"
#include "sandbox/write_watch.h"

namespace nsbuild::builder {

// One banner for the whole run: each block's own banner and closing rule
// are dropped, so the summary reads as one, whatever the phases.
std::string FormatWriteSummary(const Plan& plan, const RunSummary& summary) {
  std::string banner, rule, body;
  for (const auto& node : plan.nodes) {
    const WriteRecord& w = summary.nodes[node.id].writes;
    if (w.ViolationCount() == 0) continue;
    std::string heading =
        plan.targets[node.target] + " " + node.PhaseName() + ": " +
        std::to_string(w.ViolationCount()) + " write(s) outside the allowed roots, denied" +
        (w.capture_dir.empty() ? "" : " (captured ones are in " + w.capture_dir + ")");
    std::string block = sandbox::FormatViolations(w.violations, heading, w.violations_not_kept);
    size_t first = block.find('\n') + 1;
    size_t last = block.rfind('\n', block.size() - 2) + 1;
    banner = block.substr(0, first);
    rule = block.substr(last);
    body += block.substr(first, last - first);
  }
  return body.empty() ? "" : banner + body + rule;
}

std::string FormatViolationLines(const std::vector<sandbox::WriteViolation>& v, uint64_t not_kept) {
  std::string out;
  for (const auto& x : v) {
    out += "nsbuild: denied " + x.op + " " + base::EscapeLine(x.path) +
           (x.captured ? " (captured)" : "") + " by pid " + std::to_string(x.pid) + ": " +
           base::EscapeLine(x.command) + "\n";
  }
  if (not_kept > 0) out += "nsbuild: ... " + std::to_string(not_kept) + " more denied\n";
  return out;
}

std::vector<HomeLeftover> ListHomeLeftovers(const std::string& home_dir) {
  std::map<std::string, HomeLeftover> groups;
  // By fd from HOME's root: a directory the sandbox swapped for a symlink is
  // a leftover of its own, never entered.
  base::UniqueFd home(::open(home_dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!home) return {};
  (void)base::WalkTreeAt(home, [&](int, const std::string& rel, const struct stat& st) {
    if (S_ISDIR(st.st_mode)) return true;
    std::filesystem::path key;
    int depth = 0;
    std::filesystem::path relp(rel);
    for (auto part = relp.begin(); part != relp.end() && depth < 2; ++part, ++depth) key /= *part;
    // The sandbox decides how many names there are: past the bound they
    // are counted in one group, so the map stays small.
    std::string name = key.string();
    if (groups.size() >= kMaxHomeLeftoverGroups && !groups.count(name)) name = kOtherLeftovers;
    HomeLeftover& g = groups[name];
    g.path = name;
    ++g.files;
    g.bytes += S_ISREG(st.st_mode) ? static_cast<uint64_t>(st.st_size) : 0;
    return true;
  });
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
  return "notice: " + target + " left " + std::to_string(files) +
         " file(s) in its private HOME: " + list + "\n";
}

}  // namespace nsbuild::builder
