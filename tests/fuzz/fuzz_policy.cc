// libFuzzer target: arbitrary bytes as a policy file. Parsing must never
// crash, hang or accept something it cannot describe; errors are fine.
#include <cstddef>
#include <cstdint>
#include <string>

#include "base/json_reader.h"
#include "sandbox/plan.h"
#include "sandbox/policy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto doc = nsbuild::base::ParseJsonText(text, "fuzz.json");
  if (!doc || !doc->is_object() || !doc->contains("sandbox")) return 0;
  auto policy = nsbuild::sandbox::ParsePolicy(doc->at("sandbox"), "fuzz.json: $.sandbox");
  if (!policy) return 0;
  // A policy that parsed must also plan (or fail cleanly) and describe itself.
  nsbuild::sandbox::RunRequest req;
  req.argv = {"true"};
  auto spec = nsbuild::sandbox::PlanSandbox(*policy, req);
  if (spec) (void)nsbuild::sandbox::DescribePlan(*spec);
  return 0;
}
