// Shared by the tests that drive `nsbuild build`: a recipe of shell-only
// implementations.
#pragma once

#include <string>

#include "tests/support/harness.h"

namespace nsbuild::testing {

// A recipe whose implementations are generic kinds running /bin/sh, so these
// tests need no particular Python.
inline std::string ShellRecipe(const std::string& phases, const std::string& extra = "") {
  return R"({"name": "t", "version": "1", "source": "src",
    "implementations": ["a", "b"],
    "define_implementations": {"a": {"program": "/bin/sh"}, "b": {"program": "/bin/sh"}},
    "phases": )" +
         phases + extra + "}";
}

}  // namespace nsbuild::testing
