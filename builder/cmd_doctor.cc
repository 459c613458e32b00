#include "builder/commands.h"

namespace nsbuild::builder {
void AddDoctorCommand(CLI::App& app, CommandContext& ctx) {
  (void)ctx;
  app.add_subcommand("doctor", "(being written)");
}
}  // namespace nsbuild::builder
