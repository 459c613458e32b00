#include "base/split_arg.h"

namespace nsbuild::base {
namespace {

// `\sep` → sep, `\\` → '\', anything else kept.
std::string Unescape(const std::string& s, char sep) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && (s[i + 1] == sep || s[i + 1] == '\\')) ++i;
    out += s[i];
  }
  return out;
}

}  // namespace

std::pair<std::string, std::optional<std::string>> SplitUnescaped(const std::string& arg,
                                                                  char sep) {
  for (size_t i = 0; i < arg.size(); ++i) {
    if (arg[i] == '\\' && i + 1 < arg.size() && (arg[i + 1] == sep || arg[i + 1] == '\\')) {
      ++i;
      continue;
    }
    if (arg[i] == sep) {
      return {Unescape(arg.substr(0, i), sep), Unescape(arg.substr(i + 1), sep)};
    }
  }
  return {Unescape(arg, sep), std::nullopt};
}

}  // namespace nsbuild::base
