// The build conditions reproducibility verification varies (reprotest's
// list, done with namespaces instead of a VM): each Variation gives the
// inside layout of a build and changes the sandbox request of every
// sub-phase. The control build pins every factor; an experiment varies a
// chosen set.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "builder/inside_layout.h"
#include "sandbox/plan.h"

namespace nsbuild::verify {

struct Variation {
  std::string inside_root = "/nsbuild";  // the layout's root (inside_layout.h)
  std::string home;                      // HOME inside; empty: inside_root + "/home"
  std::string hostname = "nsbuild";
  std::string domainname = "(none)";
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
  std::vector<std::pair<std::string, std::string>> env;  // set after the phase's own
  std::string path_append;                               // added to PATH
  bool reverse_env = false;                              // environment order
  mode_t umask = 022;
  int cpus = 0;  // 0: all
  unsigned long personality = 0;
  int jobs = 0;  // 0: the build's -j
  // fileordering: the source is seen through disorderfs (reversed directory
  // order); the build set mounts it, outside the sandbox (build_set.h).
  bool disorder_source = false;
  // time: libfaketime preloaded with this FAKETIME offset ("" = real time).
  std::string faketime;
};

// One factor that can be varied, reprotest-style.
struct VariationFactor {
  const char* name;
  const char* what;
};
const std::vector<VariationFactor>& VariationFactors();

// Parses "+all,-time,-fileordering" style lists into the factor names to
// vary; unknown names are errors naming the known ones.
base::Result<std::vector<std::string>> ParseVariations(const std::string& spec);

// Why a factor cannot be varied here ("" if it can).
std::string Unavailable(const std::string& factor);

// libfaketime's preload library, "" if not installed.
std::string LibFaketimePath();

// Every factor pinned (the control), or the given factors varied.
Variation ControlVariation();
Variation VaryFactors(const std::vector<std::string>& factors);

// Where the build's directories appear under the variation (build_path,
// home): the layout its requests are made with.
builder::InsideLayout LayoutOf(const Variation& v);

// Changes one sub-phase request, made with LayoutOf(v), for the rest of the
// variation: ids, hostname, environment, umask, CPUs, personality.
void ApplyVariation(const Variation& v, sandbox::RunRequest& req);

}  // namespace nsbuild::verify
