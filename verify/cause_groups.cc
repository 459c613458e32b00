#include "verify/cause_groups.h"

#include <algorithm>

namespace nsbuild::verify {

std::string CanonicalFactorName(const std::string& name) {
  // reprotest calls the host and domain name one factor "domain_host".
  if (name == "domain_host") return "hostname";
  return name;
}

Causes AttributeCauses(const std::map<std::string, std::vector<std::string>>& differing,
                       const std::vector<Probe>& probes) {
  Causes out;
  for (const auto& [target, paths] : differing) {
    for (const auto& path : paths) {
      std::vector<std::string> causes;
      bool nondeterministic = false;
      for (const auto& p : probes) {
        auto t = p.differs.find(target);
        if (t == p.differs.end() || !t->second.count(path)) continue;
        if (p.cause == kNondeterminism) nondeterministic = true;
        causes.push_back(p.cause);
      }
      if (nondeterministic) causes = {kNondeterminism};
      out[target][path] = causes;
    }
  }
  return out;
}

std::vector<CauseGroup> GroupByCause(
    const std::vector<std::string>& paths,
    const std::map<std::string, std::vector<std::string>>& causes) {
  std::map<std::string, CauseGroup> by;
  for (const auto& path : paths) {
    std::string label;
    auto it = causes.find(path);
    if (it != causes.end()) {
      for (const auto& c : it->second) label += (label.empty() ? "" : ", ") + c;
    }
    if (label.empty()) label = kCombination;
    by[label].cause = label;
    by[label].paths.push_back(path);
  }
  std::vector<CauseGroup> out;
  for (auto& kv : by) out.push_back(std::move(kv.second));
  std::stable_sort(out.begin(), out.end(), [](const CauseGroup& a, const CauseGroup& b) {
    return a.paths.size() > b.paths.size();
  });
  return out;
}

}  // namespace nsbuild::verify
