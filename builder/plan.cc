#include "builder/plan.h"

namespace nsbuild::builder {
namespace {

// Appends one target's chain; returns the id of its last node, or `none`.
size_t AddChain(Plan* plan, size_t target, const PhaseCommands& cmds,
                const std::vector<size_t>& first_deps, size_t none) {
  size_t prev = none;
  for (int p = 0; p < kPhaseCount; ++p) {
    if (cmds.Get(p).empty()) continue;
    SubPhase s;
    s.id = plan->nodes.size();
    s.target = target;
    s.phase = p;
    s.command = cmds.Get(p);
    if (prev == none) {
      s.deps = first_deps;
    } else {
      s.deps = {prev};
    }
    prev = s.id;
    plan->nodes.push_back(std::move(s));
  }
  return prev;
}

}  // namespace

Plan MakePlan(const Recipe& recipe, const std::vector<Implementation>& impls) {
  Plan plan;
  const size_t none = static_cast<size_t>(-1);
  std::vector<size_t> lasts;
  for (const auto& impl : impls) {
    plan.targets.push_back(impl.name);
    size_t last = AddChain(&plan, plan.targets.size() - 1, recipe.phases, {}, none);
    if (last != none) lasts.push_back(last);
  }
  if (!recipe.all_phases.Empty()) {
    plan.targets.push_back(kAllTarget);
    AddChain(&plan, plan.targets.size() - 1, recipe.all_phases, lasts, none);
  }
  return plan;
}

std::string DescribePlan(const Plan& plan) {
  std::string out;
  for (const auto& s : plan.nodes) {
    out += "[" + std::to_string(s.id) + "] " + plan.NameOf(s);
    if (!s.deps.empty()) {
      out += " after";
      for (size_t d : s.deps) out += " [" + std::to_string(d) + "]";
    }
    out += "\n    /bin/sh -c ";
    std::string cmd = s.command;
    for (size_t i = 0; (i = cmd.find('\n', i)) != std::string::npos; i += 5)
      cmd.replace(i, 1, "\n    ");
    out += cmd + "\n";
  }
  return out;
}

}  // namespace nsbuild::builder
