#include "builder/write_policy.h"

#include "base/json_reader.h"

namespace nsbuild::builder {

base::Result<OnViolation> ParseOnViolation(const std::string& text, const std::string& where) {
  if (text == "fail") return OnViolation::kFail;
  if (text == "warn") return OnViolation::kWarn;
  return base::JsonError(where, "must be \"fail\" or \"warn\", not \"" + text + "\"");
}

base::Result<WritesPolicy> WritesPolicyOf(const PolicyDocument& doc) {
  WritesPolicy p;
  if (!doc.json.contains("writes")) return p;
  base::JsonObject o(doc.json.at("writes"), doc.path + ": $.writes");
  NSB_TRY(o.Valid());
  NSB_TRY(o.Get("watch", &p.watch));
  std::string on = "fail";
  NSB_TRY(o.Get("on_violation", &on));
  NSB_ASSIGN_OR_RETURN(p.on_violation, ParseOnViolation(on, o.PathOf("on_violation")));
  NSB_TRY(o.Finish());
  return p;
}

}  // namespace nsbuild::builder
