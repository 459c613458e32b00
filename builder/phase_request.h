// The sandbox request of one sub-phase: which host directories it sees
// where, and its environment. Every target gets the same inside paths (so
// builds are reproducible across implementations) backed by its own host
// directories, so one implementation cannot see another's:
//
//   /nsbuild/src    overlay: lower = the unpacked source (read-only),
//                   upper = this target's own layer        → $S, the cwd
//   /nsbuild/build  $BUILD_DIR     /nsbuild/image  $D
//   /nsbuild/tmp    $T, $TMPDIR    /nsbuild/home   $HOME (empty)
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "builder/impls.h"
#include "builder/plan.h"
#include "builder/recipe.h"
#include "builder/workdir.h"
#include "sandbox/plan.h"

namespace nsbuild::builder {

inline constexpr const char* kInsideSource = "/nsbuild/src";
inline constexpr const char* kInsideBuild = "/nsbuild/build";
inline constexpr const char* kInsideImage = "/nsbuild/image";
inline constexpr const char* kInsideTmp = "/nsbuild/tmp";
inline constexpr const char* kInsideHome = "/nsbuild/home";
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
  const struct Variation* variation = nullptr;  // verify's varied conditions
  const struct DistccConfig* distcc = nullptr;  // builds through distcc
  std::string launcher_dir;  // host path of launcher_dir.h's directory, "" = none
};

// The jobserver as one sub-phase sees it: its own lease (jobserver.h).
struct PhaseJobserver {
  std::string makeflags;      // " -jN --jobserver-auth=..."
  std::vector<int> pass_fds;  // the lease's pipe, kept at the same numbers
  std::string fifo;           // or its fifo (host path), bound in
};

using EnvList = std::vector<std::pair<std::string, std::string>>;

// The environment a sub-phase of `target` gets (see builder/README.md).
EnvList PhaseEnvironment(const BuildContext& ctx, const Plan& plan, size_t target,
                         const std::string& makeflags);

sandbox::RunRequest MakePhaseRequest(const BuildContext& ctx, const Plan& plan,
                                     const SubPhase& node, int output_fd,
                                     const PhaseJobserver& jobserver);

}  // namespace nsbuild::builder
