// A recipe from JSON text, for the tests of recipe parsing and of the
// build classes: parsed as if read from r.json in /recipes/x.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "base/json_reader.h"
#include "builder/recipe.h"

namespace nsbuild::builder {

inline base::Result<Recipe> Parse(const std::string& text) {
  auto j = base::ParseJsonText(text, "r.json");
  if (!j.ok()) return j.take_error();
  return ParseRecipe(*j, "r.json", "/recipes/x");
}

// The error a recipe that must be refused gets.
inline std::string ErrorOf(const std::string& text) {
  auto r = Parse(text);
  EXPECT_FALSE(r.ok()) << text;
  return r.ok() ? "" : r.error().Message();
}

}  // namespace nsbuild::builder
