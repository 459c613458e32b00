#include "cli/cli_errors.h"

#include <optional>

#include "base/suggest.h"

namespace nsbuild::cli {
namespace {

bool IsOption(const std::string& a) { return a.size() > 1 && a[0] == '-'; }

std::string OptionName(const std::string& arg) { return arg.substr(0, arg.find('=')); }

std::vector<std::string> OptionNames(CLI::App* app) {
  std::vector<std::string> names;
  for (const CLI::Option* o : app->get_options()) {
    for (const auto& l : o->get_lnames()) names.push_back("--" + l);
    for (const auto& s : o->get_snames()) names.push_back("-" + s);
  }
  return names;
}

// The option `arg` names in `app`, or nullptr (also for -abc bundles).
CLI::Option* FindOption(CLI::App* app, const std::string& arg) {
  std::string name = OptionName(arg);
  for (CLI::Option* o : app->get_options()) {
    for (const auto& l : o->get_lnames()) {
      if (name == "--" + l) return o;
    }
    for (const auto& s : o->get_snames()) {
      if (name == "-" + s) return o;
    }
  }
  return nullptr;
}

bool TakesValue(const CLI::Option* o, const std::string& arg) {
  return o->get_type_size_max() > 0 && arg.find('=') == std::string::npos;
}

struct Context {
  std::string prefix;             // "nsbuild build"
  CLI::App* sub = nullptr;        // the chosen subcommand
  std::vector<std::string> rest;  // its arguments, up to `--`
};

std::string SeeHelp(const Context& c) { return "; see " + c.prefix + " --help"; }

// `run`'s command given without `--`: the same line, written the right way.
std::string CommandAfterDashes(const Context& c, size_t command_start) {
  std::string fixed = c.prefix;
  for (size_t i = 0; i < command_start; ++i) fixed += " " + c.rest[i];
  fixed += " --";
  for (size_t i = command_start; i < c.rest.size(); ++i) fixed += " " + c.rest[i];
  return c.prefix + ": the command and its arguments go after '--': " + fixed;
}

// Walks the subcommand's arguments as CLI11 would and explains the first
// one it could not place; "" when every argument has its place.
std::string ExplainArguments(const Context& c) {
  std::optional<size_t> command_start;  // where `run`'s command began
  for (size_t i = 0; i < c.rest.size(); ++i) {
    const std::string& a = c.rest[i];
    if (!IsOption(a)) {
      if (c.sub->get_name() == "run" && !command_start) command_start = i;
      continue;
    }
    CLI::Option* o = FindOption(c.sub, a);
    if (o == nullptr) {
      if (command_start) return CommandAfterDashes(c, *command_start);
      return c.prefix + ": unknown option '" + OptionName(a) + "'" +
             base::DidYouMean(OptionName(a), OptionNames(c.sub)) + SeeHelp(c);
    }
    if (!TakesValue(o, a) || i + 1 >= c.rest.size()) continue;
    ++i;
    // bwrap's --bind SRC DEST: the next word is a second path.
    if ((a == "--bind" || a == "--ro-bind") && i + 1 < c.rest.size() &&
        c.rest[i + 1].starts_with("/")) {
      return c.prefix + ": " + a + " takes one argument, SRC[:DST]; bwrap's '" + a + " " +
             c.rest[i] + " " + c.rest[i + 1] + "' is '" + a + " " + c.rest[i] + ":" +
             c.rest[i + 1] + "' here";
    }
  }
  return "";
}

// "--jobs: 1 required INT... missing" → the option and the value it wants.
std::string ExplainMissingValue(const Context& c, const std::string& what) {
  auto colon = what.find(':');
  if (colon == std::string::npos || !IsOption(what.substr(0, colon))) return "";
  CLI::Option* o = FindOption(c.sub, what.substr(0, colon));
  if (o == nullptr) return "";
  std::string names = o->get_name(false, true);
  return c.prefix + ": " + names + " needs a value (" + o->get_type_name() + ")" + SeeHelp(c);
}

}  // namespace

std::string ExplainParseError(CLI::App& app, const CLI::ParseError& e,
                              const std::vector<std::string>& args) {
  std::vector<std::string> subs;
  for (const CLI::App* s : app.get_subcommands([](const CLI::App*) { return true; })) {
    subs.push_back(s->get_name());
  }
  Context c;
  c.prefix = "nsbuild";
  size_t i = 0;
  while (i < args.size() && IsOption(args[i])) ++i;  // -v / -q before the command
  if (i == args.size()) {
    return "nsbuild: which command? one of: " + CLI::detail::join(subs, ", ") +
           "; see nsbuild --help";
  }
  try {
    c.sub = app.get_subcommand(args[i]);
  } catch (const CLI::OptionNotFound&) {
    return "nsbuild: unknown command '" + args[i] + "'" + base::DidYouMean(args[i], subs) +
           "; see nsbuild --help";
  }
  c.prefix += " " + c.sub->get_name();
  for (++i; i < args.size() && args[i] != "--"; ++i) c.rest.push_back(args[i]);

  // An unknown option is the cause even when CLI11 first noticed something
  // else (a required option it then could not find, say).
  std::string what = e.what();
  std::string line = ExplainArguments(c);
  if (line.empty() && c.sub->get_name() == "run" && dynamic_cast<const CLI::ExtrasError*>(&e)) {
    line = c.prefix + ": the command and its arguments go after '--': " + c.prefix +
           " [OPTIONS] -- CMD ARGS...";
  }
  if (line.empty() && dynamic_cast<const CLI::ArgumentMismatch*>(&e) != nullptr) {
    line = ExplainMissingValue(c, what);
  }
  if (line.empty() && dynamic_cast<const CLI::RequiredError*>(&e) != nullptr &&
      what.ends_with(" is required")) {
    std::string name = what.substr(0, what.size() - std::string(" is required").size());
    std::string upper = name;
    for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    if (!IsOption(name))
      line = c.prefix + ": the " + name + " is missing: " + c.prefix + " [OPTIONS] " + upper;
  }
  if (!line.empty()) return line;
  return c.prefix + ": " + what + SeeHelp(c);
}

}  // namespace nsbuild::cli
