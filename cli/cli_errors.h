// Turns CLI11's parse errors into one line that says what is wrong and what
// to type instead: the unknown command or option with the nearest known
// name, a value-taking option left without its value, the sandboxed
// command's arguments given without `--`, bwrap's two-argument --bind.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace nsbuild::cli {

// argv without argv[0]; app is the parsed (and failed) top-level app.
std::string ExplainParseError(CLI::App& app, const CLI::ParseError& e,
                              const std::vector<std::string>& args);

}  // namespace nsbuild::cli
