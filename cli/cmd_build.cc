// `nsbuild build RECIPE`: options into BuildOptions, then RunBuild.
#include "builder/build.h"
#include "cli/build_options.h"
#include "cli/commands.h"

namespace nsbuild::cli {

using builder::BuildOptions;
using builder::FailureMode;
using builder::RunBuild;

void DefineBuild(CLI::App& build, CommandContext& ctx) {
  CLI::App* cmd = &build;
  auto opts = std::make_shared<BuildOptions>();
  auto fail_fast = std::make_shared<bool>(false);
  auto keep_going = std::make_shared<bool>(false);
  AddBuildOptions(*cmd, *opts, "Job slots shared by every sub-phase and make (default: CPUs)");
  auto* ff = cmd->add_flag("--fail-fast", *fail_fast, "Stop every sub-phase at the first failure");
  cmd->add_flag("--keep-going", *keep_going,
                "Run a failed implementation's later phases too (still exits 1, merges nothing)")
      ->excludes(ff);
  cmd->add_option("--work-dir", opts->work_dir, "Work dir (default: ./nsbuild-work/NAME-VERSION)");
  cmd->add_option("--dest", opts->dest,
                  "Merge the images into this root when every implementation succeeded");
  cmd->add_flag("--replace", opts->replace,
                "With --dest: replace an installed package of the same name from another recipe");
  cmd->add_option("--report", opts->report_path, "Write a JSON report here");
  cmd->add_option("--trace", opts->trace_path, "Write Chrome trace events here (Perfetto)");
  cmd->add_flag(
      "--jobserver-fifo", opts->jobserver_fifo,
      "Offer the jobserver as make >= 4.4's fifo: form (make 4.3 needs the default pipe)");
  cmd->add_flag("--dry-run", opts->dry_run, "Print the plan, run nothing");
  cmd->add_option("--on-write-violation", opts->on_write_violation,
                  "A write outside a sub-phase's roots (denied either way) fails the build or\n"
                  "only warns (default: the policy's \"writes\".\"on_violation\", else fail)")
      ->check(CLI::IsMember({"fail", "warn"}));
  cmd->add_flag("--capture-writes", opts->capture_writes,
                "Let stray file creations succeed into WORK/capture/TARGET-PHASE\n"
                "(same paths below it) instead of failing, to see what the package would\n"
                "have put on the host; still violations, the host is never written");
  cmd->add_flag("--no-watch-writes", opts->no_watch_writes,
                "Do not watch for writes outside the roots (the mounts still forbid them;\n"
                "nothing is reported)");
  cmd->footer(
      "--distcc HOSTS: every sub-phase keeps its private loopback-only network; the i-th\n"
      "daemon appears inside as 127.0.0.(i+2):PORT and nsbuild forwards only those\n"
      "connections. Compilers run through /usr/lib/distcc (first in PATH), DISTCC_HOSTS names\n"
      "the inside addresses (limits kept) plus --localslots/--localslots_cpp = local CPUs,\n"
      "one DISTCC_DIR (WORK/distcc) is shared by every sandbox so slot locks hold across\n"
      "implementations, and -j defaults to local CPUs + the daemons' slots. The report and\n"
      "the last line say how many compile jobs ran remote and local (from distcc's log).\n"
      "Example: nsbuild build examples/cext/recipe.json --distcc '10.0.0.5/8 10.0.0.6:3633/4'");
  cmd->callback([opts, fail_fast, keep_going, &ctx] {
    opts->failure_mode = *fail_fast    ? FailureMode::kFailFast
                         : *keep_going ? FailureMode::kKeepGoing
                                       : FailureMode::kFinishOthers;
    opts->verbosity = ctx.verbosity;
    ctx.exit_status = RunBuild(*opts);
  });
}

}  // namespace nsbuild::cli
