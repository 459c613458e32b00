// libFuzzer target: arbitrary bytes as a recipe.
#include <cstddef>
#include <cstdint>
#include <string>

#include "base/json_reader.h"
#include "builder/recipe.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto doc = nsbuild::base::ParseJsonText(text, "recipe.json");
  if (!doc) return 0;
  (void)nsbuild::builder::ParseRecipe(*doc, "recipe.json", "/nonexistent");
  return 0;
}
