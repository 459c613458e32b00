// Strict reading of JSON objects into plain structs, used only at the edges
// (recipes, policies, reports read back). Every error names its JSON path, and
// a key nobody asked for is an error: a typo must never be silently ignored.
#pragma once

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "base/result.h"

namespace nsbuild::base {

// Parses text as JSON; the error names the source and the line:column.
Result<nlohmann::json> ParseJsonText(const std::string& text, const std::string& source);
Result<nlohmann::json> ParseJsonFile(const std::string& path);

class JsonObject {
 public:
  // `path` is how errors name this object, e.g. "policy.json: $.sandbox".
  JsonObject(const nlohmann::json& j, std::string path);

  // Fails if the value is not an object; check before any Get.
  Status Valid() const;
  bool Has(const std::string& key) const;
  std::string PathOf(const std::string& key) const { return path_ + "." + key; }

  // Each Get marks the key as known. A missing optional key leaves *out as is.
  Status Get(const std::string& key, std::string* out, bool required = false);
  Status Get(const std::string& key, bool* out, bool required = false);
  Status Get(const std::string& key, int64_t* out, bool required = false);
  Status Get(const std::string& key, std::vector<std::string>* out, bool required = false);
  // Raw access for nested objects and arrays; nullptr when absent.
  const nlohmann::json* Child(const std::string& key);

  // Fails naming the first key that no Get or Child asked for.
  Status Finish() const;

 private:
  Status Missing(const std::string& key) const;
  Status WrongType(const std::string& key, const char* want) const;

  const nlohmann::json& j_;
  std::string path_;
  std::set<std::string> seen_;
};

// Serialises j for a file or a terminal. Strings may hold bytes a sandbox
// chose (paths, command lines): invalid UTF-8 is replaced by U+FFFD instead of
// making nlohmann throw, and control characters come out \u-escaped as JSON
// requires, so a report is always valid JSON.
std::string DumpJson(const nlohmann::json& j, int indent = -1);

// "what at path: message" in one line, the house format for edge errors.
Error JsonError(const std::string& path, const std::string& message);

}  // namespace nsbuild::base
