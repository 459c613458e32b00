// The sandbox request of one sub-phase: which host directories it sees
// where (inside_layout.h), and its environment.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "builder/impls.h"
#include "builder/inside_layout.h"
#include "builder/plan.h"
#include "builder/recipe.h"
#include "builder/workdir.h"
#include "sandbox/plan.h"

namespace nsbuild::builder {

// Where the jobserver's fifo form appears in every sandbox, whatever the
// layout: one fifo path for the whole pool (jobserver.h).
inline constexpr const char* kInsideJobserverFifo = "/nsbuild/jobserver";
inline constexpr const char* kPhasePath = "/usr/local/bin:/usr/bin:/bin";

// Everything the sub-phases of one build share.
struct BuildContext {
  const Recipe* recipe = nullptr;
  std::vector<Implementation> impls;  // indexed like Plan::targets (without `all`)
  const WorkDir* work = nullptr;
  std::string source_root;  // host path of the unpacked source
  int64_t source_date_epoch = 0;
  int jobs = 1;
  double load_average = 0;                      // passed on to make as -l
  int stdin_fd = -1;                            // /dev/null: a build never reads the terminal
  const struct DistccConfig* distcc = nullptr;  // builds through distcc
  InsideLayout layout;                          // where its directories appear
  // The rest of the conditions, once the request is made: verify's
  // variation (hostname, ids, locale, umask, ...); empty: none.
  std::function<void(sandbox::RunRequest&)> vary;
  std::string launcher_dir;  // host path of launcher_dir.h's directory, "" = none
};

// The jobserver as one sub-phase sees it: its own lease (jobserver.h).
struct PhaseJobserver {
  std::string makeflags;      // " -jN --jobserver-auth=..."
  std::vector<int> pass_fds;  // the lease's pipe, kept at the same numbers
  std::string fifo;           // or its fifo (host path), bound in
};

using EnvList = std::vector<std::pair<std::string, std::string>>;

// The environment a sub-phase of `target` gets (README.md, "What each phase
// sees").
EnvList PhaseEnvironment(const BuildContext& ctx, const Plan& plan, size_t target,
                         const std::string& makeflags);

sandbox::RunRequest MakePhaseRequest(const BuildContext& ctx, const Plan& plan,
                                     const SubPhase& node, int output_fd,
                                     const PhaseJobserver& jobserver);

}  // namespace nsbuild::builder
