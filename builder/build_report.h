// What `nsbuild build` tells after its run: the denied writes and HOME
// leftovers (stderr and the report), the images it measured, and the report
// and trace files.
#pragma once

#include <vector>

#include "builder/images.h"
#include "builder/report.h"
#include "builder/results.h"
#include "builder/setup.h"
#include "builder/workdir.h"

namespace nsbuild::builder {

// The denied writes (an error or a warning, as the policy says) and what
// each target left in its HOME (notices unless verbosity < 0), on stderr
// and into the report.
void TellWrites(const BuildSetup& setup, const RunSummary& summary, const WorkDir& work,
                int verbosity, ReportInput& report);

// After install (module_paths.h): Python modules an implementation
// installed where it does not import from, as warnings on stderr and in
// the report.
void WarnMisplacedModules(const BuildSetup& setup, const WorkDir& work, ReportInput& report);

// One image per target, counted through the work dir's fd, never by path.
std::vector<BuiltImage> MeasureImages(const BuildSetup& setup, const WorkDir& work);

// --report and --trace, when asked for; a failure is told, not fatal.
void WriteReportFiles(const std::string& report_path, const std::string& trace_path,
                      const ReportInput& in);

// nsbuild's own peak RSS so far, for the report.
long SelfMaxRssKib();

}  // namespace nsbuild::builder
