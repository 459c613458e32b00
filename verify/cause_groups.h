// verify's findings, attributed and grouped: which factor (or plain
// nondeterminism) changes each differing path, and one line per cause with
// its count of paths, so 44 paths changed by the umask read as one finding.
// Plain data in, plain data out: unit-tested without builds.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

namespace nsbuild::verify {

inline constexpr const char* kNondeterminism = "nondeterminism";
inline constexpr const char* kCombination =
    "a combination of variations (no single one changes it)";

// reprotest's name for a factor nsbuild names otherwise ("domain_host" →
// "hostname"); any other name is returned as it is.
std::string CanonicalFactorName(const std::string& name);

// One rebuild of the attribution stage: the cause it tests (a factor, or
// kNondeterminism for the control built again) and, per target, the paths
// where it differs from the control.
struct Probe {
  std::string cause;
  std::map<std::string, std::set<std::string>> differs;  // target → paths
};

// For each target's differing path, its causes: kNondeterminism alone when
// the control built twice already differs there (every factor's rebuild
// differs there too, which says nothing about the factor); else every factor
// whose one-factor rebuild differs there; empty when none does.
using Causes = std::map<std::string, std::map<std::string, std::vector<std::string>>>;
Causes AttributeCauses(const std::map<std::string, std::vector<std::string>>& differing,
                       const std::vector<Probe>& probes);

// Paths of one target sharing one cause (the causes joined by ", ", or
// kCombination), the largest group first, then by cause.
struct CauseGroup {
  std::string cause;
  std::vector<std::string> paths;  // in the order given
};
std::vector<CauseGroup> GroupByCause(const std::vector<std::string>& paths,
                                     const std::map<std::string, std::vector<std::string>>& causes);

}  // namespace nsbuild::verify
