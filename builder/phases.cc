#include "builder/phases.h"

namespace nsbuild::builder {

const std::string& PhaseCommands::Get(int phase) const {
  switch (phase) {
    case 0:
      return configure;
    case 1:
      return compile;
    case 2:
      return test;
    default:
      return install;
  }
}

std::string& PhaseCommands::Get(int phase) {
  return const_cast<std::string&>(static_cast<const PhaseCommands*>(this)->Get(phase));
}

bool PhaseCommands::Empty() const {
  return configure.empty() && compile.empty() && test.empty() && install.empty();
}

}  // namespace nsbuild::builder
