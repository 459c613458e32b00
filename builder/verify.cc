#include "builder/verify.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "builder/build.h"
#include "builder/commands.h"
#include "builder/recipe.h"
#include "merge/image_diff.h"

namespace nsbuild::builder {
namespace {

struct BuildRun {
  std::string name;  // control, experiment-1, only-hostname, control-2
  std::map<std::string, std::string> images;  // target → image path
};

// One full build under a variation, quiet, into its own work dir.
int Build(const VerifyOptions& o, const std::string& root, const std::string& name,
          const Variation& v, BuildRun* out) {
  BuildOptions b;
  b.recipe_path = o.recipe_path;
  b.impls = o.impls;
  b.jobs = o.jobs;
  b.policy = o.policy;
  // A daemon that fails must fail the build: a silent local fallback would
  // compare a different build than the one asked for.
  b.distcc = o.distcc;
  b.distcc_no_fallback = true;
  b.work_dir = root + "/" + name;
  b.verbosity = o.verbosity;
  b.variation = &v;
  std::vector<Image> images;
  b.images_out = &images;
  std::fprintf(stderr, "verify: building %s\n", name.c_str());
  int rc = RunBuild(b);
  out->name = name;
  for (const auto& i : images) out->images[i.target] = i.path;
  return rc;
}

using DiffMap = std::map<std::string, std::vector<merge::EntryDiff>>;  // target → diffs

base::Result<DiffMap> Compare(const BuildRun& a, const BuildRun& b, std::map<std::string, std::string>* digests) {
  DiffMap out;
  for (const auto& [target, path] : a.images) {
    auto it = b.images.find(target);
    if (it == b.images.end()) return base::PlainError("no image for " + target + " in " + b.name);
    NSB_ASSIGN_OR_RETURN(merge::ImageDiff d, merge::DiffImages(path, it->second, {}));
    if (digests) (*digests)[target] = d.digest_a;
    if (!d.same()) out[target] = d.diffs;
  }
  return out;
}

bool Contains(const std::vector<merge::EntryDiff>& diffs, const std::string& path) {
  for (const auto& d : diffs) {
    if (d.path == path) return true;
  }
  return false;
}

struct Verdict {
  DiffMap diffs;  // control vs experiment
  std::map<std::string, std::map<std::string, std::vector<std::string>>> causes;  // target → path → factors
  std::map<std::string, std::string> digests;
  std::vector<std::pair<std::string, std::string>> skipped;  // factor, why
};

void Print(const Verdict& v, const BuildRun& control, const BuildRun& experiment) {
  for (const auto& [f, why] : v.skipped) std::printf("skipped variation %s: %s\n", f.c_str(), why.c_str());
  if (v.diffs.empty()) {
    for (const auto& [t, d] : v.digests) std::printf("reproducible: %s %s\n", t.c_str(), d.c_str());
    return;
  }
  for (const auto& [target, diffs] : v.diffs) {
    std::printf("NOT reproducible: %s (%zu path(s) differ)\n", target.c_str(), diffs.size());
    for (const auto& d : diffs) {
      std::string cause;
      auto tc = v.causes.find(target);
      if (tc != v.causes.end() && tc->second.count(d.path)) {
        for (const auto& c : tc->second.at(d.path)) cause += (cause.empty() ? "" : ", ") + c;
      }
      std::printf("  %s: %s\n    caused by: %s\n", d.path.c_str(), d.what.c_str(),
                  cause.empty() ? "a combination of variations (no single one changes it)" : cause.c_str());
      if (d.what.find("content") != std::string::npos) {
        std::fputs(merge::DescribeFileDifference(control.images.at(target), experiment.images.at(target), d.path)
                       .c_str(),
                   stdout);
      }
    }
  }
}

void WriteReport(const std::string& path, const Verdict& v) {
  nlohmann::json j = {{"reproducible", v.diffs.empty()}, {"digests", v.digests}};
  j["skipped"] = nlohmann::json::object();
  for (const auto& [f, why] : v.skipped) j["skipped"][f] = why;
  j["differences"] = nlohmann::json::array();
  for (const auto& [target, diffs] : v.diffs) {
    for (const auto& d : diffs) {
      std::vector<std::string> causes;
      auto tc = v.causes.find(target);
      if (tc != v.causes.end() && tc->second.count(d.path)) causes = tc->second.at(d.path);
      j["differences"].push_back({{"target", target}, {"path", d.path}, {"what", d.what}, {"causes", causes}});
    }
  }
  std::ofstream(path) << j.dump(2) << "\n";
}

// Rebuild varying one factor at a time (and the control again), and name,
// for every differing path, the factors that change it alone.
int Attribute(const VerifyOptions& o, const std::string& root, const BuildRun& control,
              const std::vector<std::string>& factors, Verdict& v) {
  std::vector<std::pair<std::string, Variation>> probes = {{"nondeterminism", ControlVariation()}};
  for (const auto& f : factors) probes.emplace_back(f, VaryFactors({f}));
  for (const auto& [factor, variation] : probes) {
    BuildRun run;
    std::string name = factor == "nondeterminism" ? "control-2" : "only-" + factor;
    if (int rc = Build(o, root, name, variation, &run); rc != kExitOk) return rc;
    auto d = Compare(control, run, nullptr);
    if (!d) return std::fprintf(stderr, "nsbuild verify: %s\n", d.error().Message().c_str()), kExitUsage;
    for (const auto& [target, diffs] : v.diffs) {
      auto it = d->find(target);
      if (it == d->end()) continue;
      for (const auto& diff : diffs) {
        if (Contains(it->second, diff.path)) v.causes[target][diff.path].push_back(factor);
      }
    }
  }
  return kExitOk;
}

}  // namespace

int RunVerify(const VerifyOptions& o) {
  auto factors = ParseVariations(o.variations);
  if (!factors) return std::fprintf(stderr, "nsbuild verify: %s\n", factors.error().Message().c_str()), kExitUsage;
  auto recipe = LoadRecipe(o.recipe_path);
  if (!recipe) return std::fprintf(stderr, "nsbuild verify: %s\n", recipe.error().Message().c_str()), kExitUsage;
  std::string root = o.work_dir.empty() ? "nsbuild-work/" + recipe->name + "-" + recipe->version + "/verify"
                                        : o.work_dir;
  Verdict v;
  std::vector<std::string> usable;
  for (const auto& f : *factors) {
    std::string why = Unavailable(f);
    if (why.empty()) {
      usable.push_back(f);
    } else {
      v.skipped.emplace_back(f, why);
    }
  }
  BuildRun control;
  if (int rc = Build(o, root, "control", ControlVariation(), &control); rc != kExitOk) return kExitUsage;
  for (int round = 1; round <= std::max(1, o.rounds) && v.diffs.empty(); ++round) {
    BuildRun experiment;
    std::string name = "experiment-" + std::to_string(round);
    if (Build(o, root, name, VaryFactors(usable), &experiment) != kExitOk) return kExitUsage;
    auto d = Compare(control, experiment, &v.digests);
    if (!d) return std::fprintf(stderr, "nsbuild verify: %s\n", d.error().Message().c_str()), kExitUsage;
    v.diffs = *d;
    if (!v.diffs.empty()) {
      if (Attribute(o, root, control, usable, v) != kExitOk) return kExitUsage;
      Print(v, control, experiment);
    } else if (round == std::max(1, o.rounds)) {
      Print(v, control, experiment);
    }
  }
  if (!o.report_path.empty()) WriteReport(o.report_path, v);
  return v.diffs.empty() ? kExitOk : kExitFailure;
}

}  // namespace nsbuild::builder
