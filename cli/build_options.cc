#include "cli/build_options.h"

#include "builder/jobserver.h"

namespace nsbuild::cli {

void AddBuildOptions(CLI::App& cmd, builder::PlanOptions& o, const std::string& jobs_help) {
  cmd.add_option("recipe", o.recipe_path, "The recipe (JSON)")->required();
  cmd.add_option("--impl", o.impls, "Build only for this implementation (repeatable)")
      ->allow_extra_args(false);
  cmd.add_option("-j,--jobs", o.jobs, jobs_help)
      ->check(CLI::Range(1, builder::JobServer::kMaxJobs));
  cmd.add_option("-l,--load-average", o.load_average,
                 "Start no new sub-phase while the load average is above this")
      ->check(CLI::NonNegativeNumber);
  cmd.add_option("--policy", o.policy,
                 "Policy name or file (default: \"default\", or the recipe's \"policy\" when that\n"
                 "installed policy declares itself stricter)");
  cmd.add_option("--source", o.source,
                 "Build this directory or tarball instead of the recipe's \"source\" (which must\n"
                 "lie beneath the recipe's directory)");
  cmd.add_option("--distcc", o.distcc,
                 "Compile through these distcc daemons (distcc's ADDR[:PORT][/LIMIT] list); "
                 "the sandboxes reach them and nothing else")
      ->type_name("HOSTS");
}

}  // namespace nsbuild::cli
