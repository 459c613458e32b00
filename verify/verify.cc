#include "verify/verify.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/dir_fd.h"
#include "base/escape.h"
#include "base/exit_status.h"
#include "base/json_reader.h"
#include "builder/preflight.h"
#include "builder/setup.h"
#include "builder/workdir.h"
#include "merge/image_diff.h"
#include "verify/build_set.h"
#include "verify/cause_groups.h"
#include "verify/diffoscope.h"

namespace nsbuild::verify {

using base::kExitFailure;
using base::kExitOk;
using base::kExitSetup;
using base::kExitUsage;
using builder::BuildSetup;
using builder::WorkDir;
namespace {

using DiffMap = std::map<std::string, std::vector<merge::EntryDiff>>;  // target → diffs
using Reports =
    std::map<std::string, std::map<std::string, DiffoscopeOutput>>;  // target → path → reports

// When each build ran, for the report: the stages run their builds at once.
struct BuildRecord {
  std::string name, stage;
  std::vector<std::string> factors;
  double start = 0, end = 0;  // seconds since verify started
};

struct Verdict {
  DiffMap diffs;  // control vs the first experiment that differs
  std::string experiment;
  std::map<std::string, std::map<std::string, std::vector<std::string>>>
      causes;  // target → path → factors
  std::map<std::string, std::string> digests;
  std::vector<std::string> varied;
  std::vector<std::pair<std::string, std::string>> skipped;  // factor, why
  std::vector<BuildRecord> builds;
  int jobs = 0, peak_jobs_in_use = 0;
  Reports diffoscope;
  std::string diffoscope_note;  // why it was not used, or what went wrong
  std::string error;            // why there is no verdict
};

// Says why verify stops without a verdict; the report keeps it too.
int Fail(Verdict& v, const std::string& message, int rc) {
  std::fprintf(stderr, "nsbuild verify: %s\n", message.c_str());
  v.error = message;
  return rc;
}

double SteadySeconds() { return base::MonotonicSeconds(); }

base::Result<DiffMap> Compare(const MemberResult& a, const MemberResult& b,
                              std::map<std::string, std::string>* digests) {
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

// One stage: its builds at once, under one job pool. kExitOk with the
// results in *out, or the exit status to stop with (every build that failed
// or the interrupt already said on stderr).
int RunStage(const BuildSetup& setup, const BuildSetOptions& so,
             const std::vector<BuildSetMember>& members,
             const std::map<std::string, std::vector<std::string>>& factors, const char* stage,
             double t0, Verdict& v, BuildSetResult* out) {
  std::string names;
  for (const auto& m : members) names += (names.empty() ? "" : ", ") + m.name;
  if (so.verbosity >= 0)
    std::fprintf(stderr, "nsbuild verify: %s: building %s at once\n", stage, names.c_str());
  auto r = RunBuildSet(setup, so, members);
  if (!r.ok()) return Fail(v, r.error().Message(), kExitUsage);
  double offset = r->started - t0;
  for (const auto& m : r->members) {
    v.builds.push_back({m.name, stage, factors.at(m.name), m.start + offset, m.end + offset});
  }
  if (!r->write_summary.empty()) std::fputs(r->write_summary.c_str(), stderr);
  if (so.verbosity >= 0 && !r->bound.empty())
    std::fprintf(stderr, "nsbuild verify: %s: %s\n", stage, r->bound.c_str());
  v.jobs = r->jobs;
  v.peak_jobs_in_use = std::max(v.peak_jobs_in_use, r->peak_jobs_in_use);
  if (r->interrupted_by) {
    return Fail(v, "interrupted: every sandbox stopped, no verdict", 128 + r->interrupted_by);
  }
  // Name the build that failed, not those its failure stopped.
  if (r->culprit) {
    const MemberResult& m = r->members[*r->culprit];
    return Fail(v, "build " + m.name + " failed: " + m.error, kExitUsage);
  }
  *out = std::move(*r);
  return kExitOk;
}

// Rebuild varying one factor at a time (and the control again), all at
// once, and name for every differing path the factors that change it alone.
int Attribute(const BuildSetup& setup, BuildSetOptions so, const std::string& root, double t0,
              const BuildSetResult& first, const std::vector<std::string>& factors, Verdict& v) {
  std::vector<BuildSetMember> members = {{"control-2", ControlVariation(), root + "/control-2"}};
  std::map<std::string, std::vector<std::string>> varied = {{"control-2", {}}};
  std::map<std::string, std::string> cause_of = {{"control-2", "nondeterminism"}};
  for (const auto& f : factors) {
    members.push_back({"only-" + f, VaryFactors({f}), root + "/only-" + f});
    varied["only-" + f] = {f};
    cause_of["only-" + f] = f;
  }
  so.source_date_epoch = first.source_date_epoch;
  BuildSetResult probes;
  if (int rc = RunStage(setup, so, members, varied, "attribution", t0, v, &probes); rc != kExitOk)
    return rc;
  std::vector<Probe> tested;
  for (const auto& run : probes.members) {
    auto d = Compare(first.members.front(), run, nullptr);
    if (!d) return Fail(v, d.error().Message(), kExitUsage);
    Probe p{cause_of.at(run.name), {}};
    for (const auto& [target, diffs] : *d) {
      for (const auto& e : diffs) p.differs[target].insert(e.path);
    }
    tested.push_back(std::move(p));
  }
  std::map<std::string, std::vector<std::string>> differing;
  for (const auto& [target, diffs] : v.diffs) {
    for (const auto& d : diffs) differing[target].push_back(d.path);
  }
  v.causes = AttributeCauses(differing, tested);
  return kExitOk;
}

// diffoscope on the files whose content differs, one sandbox per target.
void ShowWithDiffoscope(const BuildSetup& setup, const WorkDir& root, const MemberResult& control,
                        const MemberResult& experiment, Verdict& v) {
  v.diffoscope_note = DiffoscopeUnavailable();
  if (!v.diffoscope_note.empty()) return;
  auto out = root.FreshDir("diffoscope", 0755);
  if (!out.ok()) {
    v.diffoscope_note = out.error().Message();
    return;
  }
  // The policy the builds ran under, as they parsed it.
  const sandbox::Policy* policy = &setup.policy.sandbox;
  for (const auto& [target, diffs] : v.diffs) {
    DiffoscopeRequest r{policy,
                        control.images.at(target),
                        experiment.images.at(target),
                        {},
                        root.path() + "/diffoscope/" + target};
    r.out_parent_fd = out->get();
    for (const auto& d : diffs) {
      if (d.what.find("content") != std::string::npos) r.paths.push_back(d.path);
    }
    auto reports = RunDiffoscope(r);
    if (!reports.ok()) {
      v.diffoscope_note = reports.error().Message();
      std::fprintf(stderr, "nsbuild verify: diffoscope: %s\n", v.diffoscope_note.c_str());
      return;
    }
    v.diffoscope[target] = *reports;
  }
}

std::vector<std::string> CausesOf(const Verdict& v, const std::string& target,
                                  const std::string& path) {
  auto tc = v.causes.find(target);
  if (tc == v.causes.end() || !tc->second.count(path)) return {};
  return tc->second.at(path);
}

const DiffoscopeOutput* ReportOf(const Verdict& v, const std::string& target,
                                 const std::string& path) {
  auto t = v.diffoscope.find(target);
  if (t == v.diffoscope.end()) return nullptr;
  auto p = t->second.find(path);
  return p == t->second.end() ? nullptr : &p->second;
}

void PrintDifference(const Verdict& v, const std::string& target, const merge::EntryDiff& d,
                     const MemberResult& control, const MemberResult& experiment) {
  std::string cause;
  for (const auto& c : CausesOf(v, target, d.path)) cause += (cause.empty() ? "" : ", ") + c;
  // Image names and contents are the build's: printed escaped (base/escape.h).
  std::printf("  %s: %s\n    caused by: %s\n", base::EscapeLine(d.path).c_str(),
              base::EscapeLine(d.what).c_str(), cause.empty() ? kCombination : cause.c_str());
  if (d.what.find("content") == std::string::npos) return;
  if (const DiffoscopeOutput* r = ReportOf(v, target, d.path)) {
    std::printf("    diffoscope: %s\n    diffoscope (HTML): %s\n",
                base::EscapeLine(r->text).c_str(), base::EscapeLine(r->html).c_str());
    return;
  }
  std::fputs(base::EscapeText(merge::DescribeFileDifference(control.images.at(target),
                                                            experiment.images.at(target), d.path))
                 .c_str(),
             stdout);
}

// One line per cause with its count of paths; each path's details with -v.
void PrintGroups(const Verdict& v, const std::string& target,
                 const std::vector<merge::EntryDiff>& diffs) {
  std::vector<std::string> paths;
  for (const auto& d : diffs) paths.push_back(d.path);
  static const std::map<std::string, std::vector<std::string>> kNone;
  auto tc = v.causes.find(target);
  for (const auto& g : GroupByCause(paths, tc == v.causes.end() ? kNone : tc->second)) {
    std::printf("  caused by %s: %zu path(s), e.g. %s\n", g.cause.c_str(), g.paths.size(),
                base::EscapeLine(g.paths.front()).c_str());
  }
}

void Print(const Verdict& v, const MemberResult& control, const MemberResult& experiment,
           int verbosity) {
  for (const auto& [f, why] : v.skipped)
    std::printf("skipped variation %s: %s\n", f.c_str(), why.c_str());
  if (v.diffs.empty()) {
    for (const auto& [t, d] : v.digests) std::printf("reproducible: %s %s\n", t.c_str(), d.c_str());
    return;
  }
  for (const auto& [target, diffs] : v.diffs) {
    std::printf("NOT reproducible: %s (%zu path(s) differ between control and %s)\n",
                target.c_str(), diffs.size(), v.experiment.c_str());
    PrintGroups(v, target, diffs);
    if (verbosity <= 0) {
      std::printf("  (each path's difference and diffoscope report: -v, or --report)\n");
      continue;
    }
    for (const auto& d : diffs) PrintDifference(v, target, d, control, experiment);
  }
}

nlohmann::json DifferencesJson(const Verdict& v) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& [target, diffs] : v.diffs) {
    for (const auto& d : diffs) {
      nlohmann::json e = {{"target", target},
                          {"path", d.path},
                          {"what", d.what},
                          {"causes", CausesOf(v, target, d.path)}};
      if (const DiffoscopeOutput* r = ReportOf(v, target, d.path)) {
        e["diffoscope"] = {{"text", r->text}, {"html", r->html}};
      }
      out.push_back(e);
    }
  }
  return out;
}

// Written whatever the outcome: without a verdict (exit 2 or interrupted),
// "reproducible" is null and "error" says why.
void WriteReport(const std::string& path, const Verdict& v, int exit_status) {
  nlohmann::json j = {{"exit_status", exit_status},
                      {"digests", v.digests},
                      {"varied", v.varied},
                      {"jobs", v.jobs},
                      {"peak_jobs_in_use", v.peak_jobs_in_use}};
  j["reproducible"] =
      exit_status > kExitFailure ? nlohmann::json() : nlohmann::json(v.diffs.empty());
  if (!v.error.empty()) j["error"] = v.error;
  j["skipped"] = nlohmann::json::object();
  for (const auto& [f, why] : v.skipped) j["skipped"][f] = why;
  j["builds"] = nlohmann::json::array();
  for (const auto& b : v.builds) {
    j["builds"].push_back({{"name", b.name},
                           {"stage", b.stage},
                           {"factors", b.factors},
                           {"start", b.start},
                           {"end", b.end}});
  }
  if (!v.diffs.empty()) j["experiment"] = v.experiment;
  j["differences"] = DifferencesJson(v);
  j["diffoscope"] = {{"used", !v.diffoscope.empty()}, {"note", v.diffoscope_note}};
  std::ofstream(path) << base::DumpJson(j, 2) << "\n";
}

int Verify(const VerifyOptions& o, double t0, Verdict& v) {
  auto factors = ParseVariations(o.variations);
  if (!factors) return Fail(v, factors.error().Message(), kExitUsage);
  // Planned once for every build of every stage. A daemon that fails must
  // fail the build: a silent local fallback would compare a different build
  // than the one asked for.
  builder::PlanOptions plan = o;
  plan.distcc_no_fallback = true;
  plan.dry_run = false;
  auto setup = builder::PlanBuild(plan);
  if (!setup) return Fail(v, setup.error().Message(), kExitUsage);
  std::string root_path =
      o.work_dir.empty() ? builder::DefaultWorkDir(setup->recipe, "/verify") : o.work_dir;
  // As a build: a work dir its sandboxes cannot reach fails here, not in
  // the first sandbox's setup.
  if (auto st = builder::CheckBeforeWork("", root_path, setup->recipe.name, setup->policy.sandbox);
      !st)
    return Fail(v, st.error().Message(), kExitUsage);
  // Opened once, with the work dir's checks; its logs are made afresh.
  auto root_dir = WorkDir::Open(root_path);
  if (!root_dir)
    return Fail(v, root_dir.error().Message() + "; " + builder::WorkDirAdvice(), kExitUsage);
  auto logs = root_dir->FreshDir("logs", 0755);
  if (!logs) return Fail(v, logs.error().Message(), kExitUsage);
  if (auto st = base::RemoveTreeAt(base::BorrowedFd(root_dir->fd()), "diffoscope"); !st) {
    return Fail(v, st.error().Message(), kExitUsage);
  }
  const std::string& root = root_dir->path();
  for (const auto& f : *factors) {
    std::string why = Unavailable(f);
    if (why.empty()) {
      v.varied.push_back(f);
    } else {
      v.skipped.emplace_back(f, why);
    }
  }
  BuildSetOptions so;
  so.load_average = o.load_average;
  so.log_dir = root + "/logs";
  so.log_dir_fd = logs->get();
  so.history_dir_fd = root_dir->fd();
  so.verbosity = o.verbosity;
  std::vector<BuildSetMember> members = {{"control", ControlVariation(), root + "/control"}};
  std::map<std::string, std::vector<std::string>> varied = {{"control", {}}};
  for (int round = 1; round <= std::max(1, o.rounds); ++round) {
    std::string name = "experiment-" + std::to_string(round);
    members.push_back({name, VaryFactors(v.varied), root + "/" + name});
    varied[name] = v.varied;
  }
  BuildSetResult first;
  if (int rc = RunStage(*setup, so, members, varied, "comparison", t0, v, &first); rc != kExitOk)
    return rc;
  const MemberResult& control = first.members.front();
  const MemberResult* differing = &first.members.back();
  for (size_t i = 1; i < first.members.size() && v.diffs.empty(); ++i) {
    auto d = Compare(control, first.members[i], &v.digests);
    if (!d) return Fail(v, d.error().Message(), kExitUsage);
    v.diffs = *d;
    if (!v.diffs.empty()) differing = &first.members[i];
  }
  if (!v.diffs.empty()) {
    v.experiment = differing->name;
    if (int rc = Attribute(*setup, so, root, t0, first, v.varied, v); rc != kExitOk) return rc;
    ShowWithDiffoscope(*setup, *root_dir, control, *differing, v);
  }
  Print(v, control, *differing, o.verbosity);
  return v.diffs.empty() ? kExitOk : kExitFailure;
}

}  // namespace

int RunVerify(const VerifyOptions& o) {
  Verdict v;
  int rc = Verify(o, SteadySeconds(), v);
  if (!o.report_path.empty()) WriteReport(o.report_path, v, rc);
  return rc;
}

}  // namespace nsbuild::verify
