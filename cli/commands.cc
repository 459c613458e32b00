#include "cli/commands.h"

#include <cstring>

namespace nsbuild::cli {
namespace {

constexpr Command kCommands[] = {
    {"run", "Run one command in a sandbox", DefineRun},
    {"doctor", "Check what this kernel and user can do", DefineDoctor},
    {"merge", "Check images and merge them crash-safely into a destination", DefineMerge},
    {"check", "Run the merge checks on images, change nothing", DefineCheck},
    {"uninstall", "Remove a merged package (journaled; keeps files changed since install)",
     DefineUninstall},
    {"owner", "Print the package(s) that installed a path", DefineOwner},
    {"verify-installed", "List a package's files changed since install", DefineVerifyInstalled},
    {"build", "Build a recipe once per implementation, each sub-phase in its own sandbox",
     DefineBuild},
    {"impls", "List the implementations installed on this host", DefineImpls},
    {"diff", "Compare two images or destinations canonically", DefineDiff},
    {"verify", "Check that a recipe builds reproducibly", DefineVerify},
};

}  // namespace

std::span<const Command> Commands() { return kCommands; }

const Command* ChosenCommand(int argc, const char* const* argv) {
  // nsbuild's own options (-v, -q, --help, --version) take no value, so the
  // first word that is not an option is where CLI11 looks for the
  // subcommand too. "-" is a word (as cli_errors.cc counts it), "--" ends
  // the options: neither names a command.
  auto is_option = [](const char* a) { return a[0] == '-' && a[1] != '\0'; };
  int i = 1;
  while (i < argc && is_option(argv[i]) && std::strcmp(argv[i], "--") != 0) ++i;
  if (i >= argc) return nullptr;
  for (const Command& c : kCommands) {
    if (std::strcmp(argv[i], c.name) == 0) return &c;
  }
  return nullptr;
}

void AddCommands(CLI::App& app, CommandContext& ctx, const Command* chosen) {
  // Once argv names a subcommand, CLI11 takes no other (require_subcommand(1))
  // and the others appear in no output: only that one is built.
  for (const Command& c : kCommands) {
    if (chosen != nullptr && chosen != &c) continue;
    c.define(*app.add_subcommand(c.name, c.description), ctx);
  }
}

}  // namespace nsbuild::cli
