#include "builder/commands.h"

namespace nsbuild::builder {
void AddRunCommand(CLI::App& app, CommandContext& ctx) {
  (void)ctx;
  app.add_subcommand("run", "(being written)");
}
}  // namespace nsbuild::builder
