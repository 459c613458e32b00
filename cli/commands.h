// The nsbuild command line: every subcommand registers itself here. Commands
// parse options at this edge into plain structs and call into the modules.
#pragma once

#include <CLI/CLI.hpp>

#include "base/exit_status.h"

namespace nsbuild::cli {

using base::kExitFailure;
using base::kExitOk;
using base::kExitSetup;
using base::kExitUsage;

struct CommandContext {
  int exit_status = kExitOk;
  int verbosity = 0;  // -v count minus -q
};

void AddRunCommand(CLI::App& app, CommandContext& ctx);
void AddDoctorCommand(CLI::App& app, CommandContext& ctx);
// merge, check (cmd_merge.cc); uninstall, owner, verify-installed (cmd_installed.cc)
void AddMergeCommands(CLI::App& app, CommandContext& ctx);
void AddInstalledCommands(CLI::App& app, CommandContext& ctx);
void AddBuildCommand(CLI::App& app, CommandContext& ctx);
void AddImplsCommand(CLI::App& app, CommandContext& ctx);
void AddDiffCommand(CLI::App& app, CommandContext& ctx);
void AddVerifyCommand(CLI::App& app, CommandContext& ctx);

}  // namespace nsbuild::cli
