#include "builder/build_report.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <cstdio>

#include "base/escape.h"
#include "builder/diagnose.h"
#include "builder/module_paths.h"
#include "builder/write_report.h"

namespace nsbuild::builder {

void TellWrites(const BuildSetup& s, const RunSummary& summary, const WorkDir& work, int verbosity,
                ReportInput& report) {
  const WritesPolicy& writes = s.policy.writes;
  if (!writes.watch) return;
  report.on_violation = writes.on_violation == OnViolation::kFail ? "fail" : "warn";
  report.addwrite = s.recipe.addwrite;
  std::string blocks = FormatWriteSummary(s.plan, summary);
  if (!blocks.empty()) {
    std::fputs(blocks.c_str(), stderr);
    size_t n = summary.WriteViolationCount();
    if (writes.on_violation == OnViolation::kFail) {
      spdlog::error(
          "{} write(s) outside the allowed roots were denied; the policy fails the build ({})", n,
          WriteViolationAdvice(s.plan, summary));
    } else {
      spdlog::warn("{} write(s) outside the allowed roots were denied (policy: warn)", n);
    }
  }
  for (const auto& t : s.plan.targets) {
    report.home_leftovers.push_back(ListHomeLeftovers(work.Target(t).home));
    std::string notice = FormatHomeLeftovers(t, report.home_leftovers.back());
    if (verbosity >= 0 && !notice.empty()) std::fputs(notice.c_str(), stderr);
  }
}

void WarnMisplacedModules(const BuildSetup& s, const WorkDir& work, ReportInput& report) {
  for (const auto& impl : s.impls) {
    if (impl.kind == ImplKind::kGeneric) continue;
    auto dir = work.OpenBeneath("targets/" + impl.name + "/image", O_RDONLY | O_DIRECTORY);
    if (!dir.ok()) continue;
    for (auto& w :
         MisplacedModuleDirs(impl.name, ModuleDirsOf(dir->get()), ImportPaths(impl.program))) {
      spdlog::warn("{}", w);
      report.warnings.push_back(std::move(w));
    }
  }
}

std::vector<BuiltImage> MeasureImages(const BuildSetup& s, const WorkDir& work) {
  std::vector<BuiltImage> out;
  for (const auto& t : s.plan.targets) {
    // The image is the sandbox's: counted through an fd, never by path.
    auto dir = work.OpenBeneath("targets/" + t + "/image", O_RDONLY | O_DIRECTORY);
    out.push_back(MeasureImage(t, work.Target(t).image, dir.ok() ? dir->get() : -1));
  }
  return out;
}

void WriteReportFiles(const std::string& report_path, const std::string& trace_path,
                      const ReportInput& in) {
  if (!report_path.empty()) {
    if (auto st = WriteReport(report_path, in); !st)
      spdlog::error("{}", base::EscapeLine(st.error().Message()));
  }
  if (!trace_path.empty()) {
    if (auto st = WriteTrace(trace_path, in); !st)
      spdlog::error("{}", base::EscapeLine(st.error().Message()));
  }
}

long SelfMaxRssKib() {
  struct rusage ru = {};
  ::getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

}  // namespace nsbuild::builder
