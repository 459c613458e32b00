// The nsbuild command line: every subcommand registers itself here. Commands
// parse options at this edge into plain structs and call into the modules.
#pragma once

#include <CLI/CLI.hpp>
#include <span>

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

// What each subcommand adds to its CLI::App: options, footer, callback.
void DefineRun(CLI::App& cmd, CommandContext& ctx);
void DefineDoctor(CLI::App& cmd, CommandContext& ctx);
void DefineMerge(CLI::App& cmd, CommandContext& ctx);            // cmd_merge.cc
void DefineCheck(CLI::App& cmd, CommandContext& ctx);            // cmd_merge.cc
void DefineUninstall(CLI::App& cmd, CommandContext& ctx);        // cmd_installed.cc
void DefineOwner(CLI::App& cmd, CommandContext& ctx);            // cmd_installed.cc
void DefineVerifyInstalled(CLI::App& cmd, CommandContext& ctx);  // cmd_installed.cc
void DefineBuild(CLI::App& cmd, CommandContext& ctx);
void DefineImpls(CLI::App& cmd, CommandContext& ctx);
void DefineDiff(CLI::App& cmd, CommandContext& ctx);
void DefineVerify(CLI::App& cmd, CommandContext& ctx);

// One subcommand: its name and the line `nsbuild --help` lists, apart from
// the options, so that a start defines only the options of the command it
// runs (CLI11 builds every option, validator and default string eagerly).
struct Command {
  const char* name;
  const char* description;
  void (*define)(CLI::App& cmd, CommandContext& ctx);
};

// Every subcommand, in the order `nsbuild --help` lists them.
std::span<const Command> Commands();

// The subcommand argv names (the first word that is not one of nsbuild's
// own flags), or nullptr when it names none of Commands(): then every
// subcommand is defined, so that errors and the top-level help see all.
const Command* ChosenCommand(int argc, const char* const* argv);

// Adds the chosen subcommand to `app`, or every one when none is chosen.
void AddCommands(CLI::App& app, CommandContext& ctx, const Command* chosen);

}  // namespace nsbuild::cli
