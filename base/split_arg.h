// Splitting a command-line argument like SRC[:DST] where SRC or DST may hold
// the separator itself: `\:` is a literal ':' and `\\` a literal '\'. The
// first unescaped separator splits; any other backslash stays as it is, so
// ordinary paths read the same as before.
#pragma once

#include <optional>
#include <string>
#include <utility>

namespace nsbuild::base {

// {"a:b", "c"} from "a\:b:c"; {"a", nullopt} from "a".
std::pair<std::string, std::optional<std::string>> SplitUnescaped(const std::string& arg, char sep);

}  // namespace nsbuild::base
