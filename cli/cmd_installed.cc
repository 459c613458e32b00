// nsbuild uninstall / owner / verify-installed: questions and changes about
// what the installed-files database (DEST/var/lib/nsbuild/) records.
#include <cstdio>

#include "builder/merge_handoff.h"
#include "cli/commands.h"
#include "merge/maintenance.h"

namespace nsbuild::cli {

using builder::Say;
namespace {

struct InstalledOptions {
  std::string dest;
  std::string arg;  // package or path
};

int RunUninstall(const InstalledOptions& o) {
  auto rep = merge::Uninstall(o.dest, o.arg);
  if (!rep) return Say("uninstall", "error: " + rep.error().Message()), kExitFailure;
  if (!rep->recovered.empty()) Say("uninstall", "recovered first: " + rep->recovered);
  for (const auto& k : rep->kept) Say("uninstall", "kept: " + k + " (changed since install)");
  Say("uninstall", "removed " + o.arg + " from " + o.dest);
  return kExitOk;
}

int RunOwner(const InstalledOptions& o) {
  auto owners = merge::Owners(o.dest, o.arg);
  if (!owners) return Say("owner", "error: " + owners.error().Message()), kExitUsage;
  if (owners->empty()) return Say("owner", o.arg + " belongs to no package"), kExitFailure;
  for (const auto& p : *owners) std::printf("%s\n", p.c_str());
  return kExitOk;
}

int RunVerify(const InstalledOptions& o) {
  auto changed = merge::VerifyInstalled(o.dest, o.arg);
  if (!changed) return Say("verify-installed", "error: " + changed.error().Message()), kExitUsage;
  for (const auto& f : *changed) std::printf("%s: %s\n", f.path.c_str(), f.reason.c_str());
  if (!changed->empty()) return kExitFailure;
  Say("verify-installed", o.arg + ": every file matches the database");
  return kExitOk;
}

CLI::App* Define(CLI::App& c, const char* arg_help, std::shared_ptr<InstalledOptions> o) {
  c.add_option(arg_help[0] == 'P' && arg_help[1] == 'A' ? "path" : "package", o->arg, arg_help)
      ->required();
  c.add_option("--dest", o->dest, "Destination root holding var/lib/nsbuild/")->required();
  return &c;
}

}  // namespace

void DefineUninstall(CLI::App& cmd, CommandContext& ctx) {
  auto u = std::make_shared<InstalledOptions>();
  Define(cmd, "Package name", u)
      ->footer("Exit status: 0 removed; 1 not installed or failed (rolled back).")
      ->callback([u, &ctx] { ctx.exit_status = RunUninstall(*u); });
}

void DefineOwner(CLI::App& cmd, CommandContext& ctx) {
  auto w = std::make_shared<InstalledOptions>();
  Define(cmd, "PATH inside the destination", w)
      ->footer("Exit status: 0 owned (owners printed); 1 no owner; 2 no database or bad input.")
      ->callback([w, &ctx] { ctx.exit_status = RunOwner(*w); });
}

void DefineVerifyInstalled(CLI::App& cmd, CommandContext& ctx) {
  auto v = std::make_shared<InstalledOptions>();
  Define(cmd, "Package name", v)
      ->footer(
          "Prints PATH: what changed, one per line.\n"
          "Exit status: 0 all match; 1 some changed; 2 unknown package or no database.")
      ->callback([v, &ctx] { ctx.exit_status = RunVerify(*v); });
}

}  // namespace nsbuild::cli
