// Build classes (a recipe's "build_system"), as distutils-r1 is an eclass:
// each names the configure/compile/test/install scripts a recipe gets for
// the phases it does not spell out itself. The classes are data (a table of
// shell scripts, printed by `nsbuild build --dry-run` and listed in the
// README); this module only looks them up and assembles them. The scripts
// run in the phase's sandbox like any recipe phase: they install into $D in
// the layout Debian's interpreters import from, take their jobs from the
// jobserver (MAKEFLAGS) or $JOBS, export dpkg-buildflags' hardening flags,
// and skip the tests under DEB_BUILD_OPTIONS=nocheck.
#pragma once

#include <string>
#include <vector>

#include "builder/phases.h"

namespace nsbuild::builder {

// The names a recipe may give, in the order the README lists them.
std::vector<std::string> BuildSystemNames();

// The class's default phases, each a complete `set -e` script; false when
// `name` is no class.
bool DefaultPhases(const std::string& name, PhaseCommands* out);

}  // namespace nsbuild::builder
