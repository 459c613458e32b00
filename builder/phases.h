// The per-implementation phases a recipe or a build class names, apart
// from the recipe so that both the recipe reader and the build classes
// (build_systems.h) can use them without depending on each other.
#pragma once

#include <string>

namespace nsbuild::builder {

// The per-implementation phases, in the order they run.
inline constexpr const char* kPhaseNames[] = {"configure", "compile", "test", "install"};
inline constexpr int kPhaseCount = 4;

// One shell command per phase; empty = the phase is skipped.
struct PhaseCommands {
  std::string configure, compile, test, install;

  const std::string& Get(int phase) const;
  std::string& Get(int phase);
  bool Empty() const;
};

}  // namespace nsbuild::builder
