// The nsbuild command line: every subcommand registers itself here. Commands
// parse options at this edge into plain structs and call into the modules.
#pragma once

#include <CLI/CLI.hpp>

namespace nsbuild::builder {

// Documented exit statuses shared by all commands (see README "Exit status").
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // the job ran and failed (build, check)
inline constexpr int kExitUsage = 2;    // bad arguments or input, nothing was done
inline constexpr int kExitSetup = 125;  // the sandbox could not be set up

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

}  // namespace nsbuild::builder
