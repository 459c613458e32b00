// `nsbuild impls`: the implementations this host has and whether each can
// build (runs, has its C headers for extensions).
#include <cstdio>
#include <nlohmann/json.hpp>

#include "base/json_reader.h"
#include "builder/impls.h"
#include "cli/commands.h"

namespace nsbuild::cli {

using builder::DetectHostImpls;
using builder::Implementation;
using builder::KindName;
namespace {

void PrintTable(const std::vector<Implementation>& found) {
  std::printf("%-12s %-8s %-26s %-6s %-5s %s\n", "NAME", "KIND", "PROGRAM", "USABLE", "DEV",
              "VERSION");
  for (const auto& i : found) {
    std::printf("%-12s %-8s %-26s %-6s %-5s %s\n", i.name.c_str(), KindName(i.kind),
                i.program.c_str(), i.usable ? "yes" : "no", i.dev_headers ? "yes" : "no",
                i.version.c_str());
  }
}

void PrintJson(const std::vector<Implementation>& found) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& i : found) {
    out.push_back({{"name", i.name},
                   {"kind", KindName(i.kind)},
                   {"program", i.program},
                   {"usable", i.usable},
                   {"dev_headers", i.dev_headers},
                   {"version", i.version}});
  }
  std::printf("%s\n", base::DumpJson(out, 2).c_str());
}

}  // namespace

void DefineImpls(CLI::App& impls, CommandContext& ctx) {
  CLI::App* cmd = &impls;
  auto json = std::make_shared<bool>(false);
  cmd->add_flag("--json", *json, "JSON instead of a table");
  cmd->callback([json, &ctx] {
    auto found = DetectHostImpls();
    if (*json) {
      PrintJson(found);
    } else if (found.empty()) {
      std::printf("no Python implementation found in /usr/local/bin or /usr/bin\n");
    } else {
      PrintTable(found);
    }
    ctx.exit_status = kExitOk;
  });
}

}  // namespace nsbuild::cli
