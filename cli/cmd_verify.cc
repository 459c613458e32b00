// nsbuild verify: reproducibility under varied build conditions.
#include "cli/build_options.h"
#include "cli/commands.h"
#include "verify/variation.h"
#include "verify/verify.h"

namespace nsbuild::cli {

using verify::RunVerify;
using verify::VariationFactors;
using verify::VerifyOptions;

void DefineVerify(CLI::App& verify, CommandContext& ctx) {
  auto o = std::make_shared<VerifyOptions>();
  CLI::App* cmd = &verify;
  std::string factors;
  for (const auto& f : VariationFactors())
    factors += std::string("  ") + f.name + ": " + f.what + "\n";
  cmd->footer(
      "Builds every implementation in a control build (every factor pinned) and in\n"
      "experiment builds that vary the chosen factors, with the same SOURCE_DATE_EPOCH.\n"
      "The control and the experiments run at once, in one scheduler under one job pool\n"
      "(-j bounds all of them together, as it bounds the implementations of `nsbuild\n"
      "build`); a failed build stops the others, Ctrl-C stops every sandbox. Images are\n"
      "compared canonically (paths, types, modes, symlink targets, content). When they\n"
      "differ, nsbuild rebuilds varying one factor at a time, and the control once more,\n"
      "again all at once, and names for every differing file the factor(s) that change\n"
      "it (\"nondeterminism\" when two identical builds differ). With diffoscope installed\n"
      "it shows each differing file's text and HTML report (diffoscope runs sandboxed: no\n"
      "network, images read-only, 300 s); without it, a unified diff or first differing byte.\n\n"
      "Factors (--variations takes reprotest-style lists, e.g. +all,-time; reprotest's\n"
      "--vary and its name domain_host for hostname are accepted too):\n" +
      factors + "\n" +
      "fileordering mounts the source through disorderfs before the build (root, or a user\n"
      "who may open /dev/fuse). time preloads libfaketime: a time namespace would shift\n"
      "only the monotonic and boot clocks, never the wall clock; statically linked\n"
      "programs do not see the fake time. A factor that cannot be varied here is printed\n"
      "as skipped, with the reason. --distcc sets DISTCC_FALLBACK=0: a daemon that fails\n"
      "fails the build instead of a silent local compile.\n\n"
      "Exit status: 0 reproducible, 1 not reproducible, 2 bad input or a failed build,\n"
      "130/143 interrupted (nothing left running or mounted).");
  AddBuildOptions(*cmd, *o, "Job slots shared by all the builds (default: CPUs)");
  cmd->add_option("--variations", o->variations, "Factors to vary")->capture_default_str();
  // reprotest's form: each --vary=+F,-G adds to the list (after --variations).
  auto vary = std::make_shared<std::vector<std::string>>();
  cmd->add_option("--vary", *vary,
                  "reprotest's form: change the factors (+F, -F, repeatable) after --variations")
      ->allow_extra_args(false);
  cmd->add_option("--rounds", o->rounds,
                  "Experiment builds (run at once) before concluding reproducible")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--work-dir", o->work_dir,
                  "Where the builds go (default: ./nsbuild-work/NAME-VERSION/verify)");
  cmd->add_option("--report", o->report_path,
                  "Write the verdict as JSON here (differences, causes, builds' start/end, "
                  "diffoscope reports)");
  cmd->callback([o, vary, &ctx] {
    o->verbosity = ctx.verbosity;
    for (const auto& v : *vary) o->variations += "," + v;
    ctx.exit_status = RunVerify(*o);
  });
}

}  // namespace nsbuild::cli
