// nsbuild's entry point: builds the command line (every subcommand's name,
// the options of the one chosen), runs it and maps errors to the documented
// statuses.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "cli/cli_errors.h"
#include "cli/commands.h"

#ifndef NSBUILD_VERSION
#define NSBUILD_VERSION "unknown"
#endif

int main(int argc, char** argv) {
  using namespace nsbuild::cli;
  CLI::App app{
      "nsbuild: build a package once per implementation, every sub-phase in its own\n"
      "user/mount/pid/net namespace, then merge the images safely.",
      "nsbuild"};
  app.set_version_flag("--version", std::string("nsbuild ") + NSBUILD_VERSION);
  app.require_subcommand(1);
  app.fallthrough();
  CommandContext ctx;
  int verbose = 0, quiet = 0;
  app.add_flag("-v,--verbose", verbose, "More output (repeatable)");
  app.add_flag("-q,--quiet", quiet, "Only errors");

  AddCommands(app, ctx, ChosenCommand(argc, argv));

  app.parse_complete_callback([&] {
    ctx.verbosity = verbose - quiet;
    // Diagnostics go to stderr, so stdout stays data (plans, JSON, lists).
    // No colour where https://no-color.org asks for none or the terminal
    // cannot show it; spdlog's automatic mode already skips non-ttys.
    const char* no_color = std::getenv("NO_COLOR");
    const char* term = std::getenv("TERM");
    bool plain = (no_color != nullptr && *no_color != '\0') ||
                 (term != nullptr && std::strcmp(term, "dumb") == 0);
    spdlog::set_default_logger(spdlog::stderr_color_st(
        "nsbuild", plain ? spdlog::color_mode::never : spdlog::color_mode::automatic));
    spdlog::set_pattern("nsbuild: %^%l%$: %v");
    spdlog::set_level(ctx.verbosity > 0   ? spdlog::level::debug
                      : ctx.verbosity < 0 ? spdlog::level::err
                                          : spdlog::level::info);
  });
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::vector<std::string> args(argv + 1, argv + argc);
    std::fprintf(stderr, "%s\n", ExplainParseError(app, e, args).c_str());
    return kExitUsage;
  }
  return ctx.exit_status;
}
