// nsbuild verify: reproducibility under varied build conditions.
#include "builder/commands.h"
#include "builder/variation.h"
#include "builder/verify.h"

namespace nsbuild::builder {

void AddVerifyCommand(CLI::App& app, CommandContext& ctx) {
  auto o = std::make_shared<VerifyOptions>();
  CLI::App* cmd = app.add_subcommand("verify", "Check that a recipe builds reproducibly");
  std::string factors;
  for (const auto& f : VariationFactors()) factors += std::string("  ") + f.name + ": " + f.what + "\n";
  cmd->footer(
      "Builds every implementation in a control build (every factor pinned) and in an\n"
      "experiment that varies the chosen factors, same sandbox and jobserver as `nsbuild\n"
      "build`, with the same SOURCE_DATE_EPOCH. Images are compared canonically (paths,\n"
      "types, modes, symlink targets, content). When they differ, nsbuild rebuilds varying\n"
      "one factor at a time, and the control once more, and names for every differing file\n"
      "the factor(s) that change it (\"nondeterminism\" when two identical builds differ).\n\n"
      "Factors (--variations takes reprotest-style lists, e.g. +all,-time):\n" + factors +
      "A factor that cannot be varied here is reported as skipped. Time namespaces shift\n"
      "only the monotonic and boot clocks, so wall-clock time needs libfaketime.\n\n"
      "Exit status: 0 reproducible, 1 not reproducible, 2 bad input or a failed build.");
  cmd->add_option("recipe", o->recipe_path, "The recipe (JSON)")->required();
  cmd->add_option("--impl", o->impls, "Only this implementation (repeatable)");
  cmd->add_option("--variations", o->variations, "Factors to vary")->capture_default_str();
  cmd->add_option("--rounds", o->rounds, "Experiment builds before concluding reproducible")
      ->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("-j,--jobs", o->jobs, "Job slots (default: CPUs)");
  cmd->add_option("--work-dir", o->work_dir, "Where the builds go (default: ./nsbuild-work/NAME-VERSION/verify)");
  cmd->add_option("--policy", o->policy, "Policy name or file (default: the recipe's)");
  cmd->add_option("--distcc", o->distcc,
                  "Compile through these distcc daemons, as in nsbuild build; DISTCC_FALLBACK=0 "
                  "(a daemon failure fails the build)")
      ->type_name("HOSTS");
  cmd->add_option("--report", o->report_path, "Write the verdict as JSON here");
  cmd->callback([o, &ctx] {
    o->verbosity = ctx.verbosity - 1;
    ctx.exit_status = RunVerify(*o);
  });
}

}  // namespace nsbuild::builder
