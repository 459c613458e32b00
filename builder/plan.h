// The plan: a recipe and its implementations become a DAG of sub-phases.
// Per implementation configure → compile → test → install (empty phases left
// out); the recipe's `all` phases depend on every implementation's last one.
// Printable (--dry-run) and testable without running anything.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "builder/impls.h"
#include "builder/recipe.h"

namespace nsbuild::builder {

// The target the `all` phases run as: it gets its own directories and image.
inline constexpr const char* kAllTarget = "all";

struct SubPhase {
  size_t id = 0;
  size_t target = 0;  // index into Plan::targets
  int phase = 0;      // index into kPhaseNames
  std::string command;
  std::vector<size_t> deps;  // ids that must succeed first

  const char* PhaseName() const { return kPhaseNames[phase]; }
};

struct Plan {
  // Implementation names, then kAllTarget when the recipe has `all` phases.
  std::vector<std::string> targets;
  std::vector<SubPhase> nodes;  // topologically ordered: deps have lower ids

  std::string NameOf(const SubPhase& s) const { return targets[s.target] + ":" + s.PhaseName(); }
};

Plan MakePlan(const Recipe& recipe, const std::vector<Implementation>& impls);
std::string DescribePlan(const Plan& plan);

}  // namespace nsbuild::builder
