#include "builder/run_steps.h"

#include <nlohmann/json.hpp>

#include "merge/merge.h"

namespace nsbuild::builder {
namespace {

std::vector<std::string> Lines(const std::vector<merge::Finding>& findings) {
  std::vector<std::string> out;
  for (const auto& f : findings) {
    std::string where = f.impl.empty() ? f.path : f.impl + ":" + f.path;
    out.push_back(where + ": " + (f.kind.empty() || f.kind == "reject" ? "" : f.kind + ": ") +
                  f.reason);
  }
  return out;
}

}  // namespace

void RecordMerge(const merge::MergeReport& r, StepRecord* step) {
  step->merged = r.merged;
  step->operations = r.operations;
  step->rejections = Lines(r.rejections);
  step->conflicts = Lines(r.conflicts);
  step->collisions = Lines(r.collisions);
  step->notices = Lines(r.notices);
  step->preferred = Lines(r.preferred);
}

nlohmann::json StepJson(const StepRecord& s) {
  nlohmann::json j = {
      {"name", s.name}, {"start_seconds", s.start}, {"end_seconds", s.end}, {"ok", s.ok}};
  if (!s.error.empty()) j["error"] = s.error;
  if (s.name == "merge") {
    j["merged"] = s.merged;
    j["operations"] = s.operations;
    j["rejections"] = s.rejections;
    j["conflicts"] = s.conflicts;
    j["collisions"] = s.collisions;
    j["notices"] = s.notices;
    j["preferred"] = s.preferred;
  }
  return j;
}

}  // namespace nsbuild::builder
