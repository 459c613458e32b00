#include "base/json_reader.h"

#include <cstdint>
#include <limits>

#include "base/fs.h"
#include "base/suggest.h"

namespace nsbuild::base {

Error JsonError(const std::string& path, const std::string& message) {
  return PlainError(path + ": " + message);
}

Result<nlohmann::json> ParseJsonText(const std::string& text, const std::string& source) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    // byte offset → line:column, which an editor can jump to.
    size_t line = 1, col = 1;
    for (size_t i = 0; i < e.byte && i < text.size(); ++i) {
      if (text[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    std::string what = e.what();
    auto pos = what.find("syntax error");
    if (pos != std::string::npos) what = what.substr(pos);
    return PlainError(source + ":" + std::to_string(line) + ":" + std::to_string(col) +
                      ": invalid JSON: " + what);
  } catch (const nlohmann::json::exception& e) {
    // e.g. a number too large for any type (found by fuzzing)
    return PlainError(source + ": invalid JSON: " + e.what());
  }
}

Result<nlohmann::json> ParseJsonFile(const std::string& path) {
  NSB_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return ParseJsonText(text, path);
}

JsonObject::JsonObject(const nlohmann::json& j, std::string path) : j_(j), path_(std::move(path)) {}

Status JsonObject::Valid() const {
  if (!j_.is_object()) return JsonError(path_, "expected an object");
  return {};
}

bool JsonObject::Has(const std::string& key) const { return j_.is_object() && j_.contains(key); }

Status JsonObject::Missing(const std::string& key) const {
  return JsonError(PathOf(key), "required key is missing");
}

Status JsonObject::WrongType(const std::string& key, const char* want) const {
  return JsonError(PathOf(key),
                   std::string("expected ") + want + ", got " + j_.at(key).type_name());
}

const nlohmann::json* JsonObject::Child(const std::string& key) {
  seen_.insert(key);
  if (!Has(key)) return nullptr;
  return &j_.at(key);
}

Status JsonObject::Get(const std::string& key, std::string* out, bool required) {
  seen_.insert(key);
  if (!Has(key)) return required ? Missing(key) : Status{};
  if (!j_.at(key).is_string()) return WrongType(key, "a string");
  *out = j_.at(key).get<std::string>();
  return {};
}

Status JsonObject::Get(const std::string& key, bool* out, bool required) {
  seen_.insert(key);
  if (!Has(key)) return required ? Missing(key) : Status{};
  if (!j_.at(key).is_boolean()) return WrongType(key, "true or false");
  *out = j_.at(key).get<bool>();
  return {};
}

Status JsonObject::Get(const std::string& key, int64_t* out, bool required) {
  seen_.insert(key);
  if (!Has(key)) return required ? Missing(key) : Status{};
  const auto& v = j_.at(key);
  if (!v.is_number_integer()) return WrongType(key, "an integer");
  // nlohmann keeps numbers above INT64_MAX as unsigned; get<int64_t> would
  // wrap them to negatives (2^64-1 became -1).
  if (v.is_number_unsigned() &&
      v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return JsonError(PathOf(key), "integer out of range");
  }
  *out = v.get<int64_t>();
  return {};
}

Status JsonObject::Get(const std::string& key, std::vector<std::string>* out, bool required) {
  seen_.insert(key);
  if (!Has(key)) return required ? Missing(key) : Status{};
  const auto& arr = j_.at(key);
  if (!arr.is_array()) return WrongType(key, "an array of strings");
  std::vector<std::string> v;
  for (size_t i = 0; i < arr.size(); ++i) {
    if (!arr[i].is_string()) {
      return JsonError(PathOf(key) + "[" + std::to_string(i) + "]", "expected a string");
    }
    v.push_back(arr[i].get<std::string>());
  }
  *out = std::move(v);
  return {};
}

Status JsonObject::Finish() const {
  if (!j_.is_object()) return {};
  for (const auto& [key, value] : j_.items()) {
    if (!seen_.count(key)) {
      std::vector<std::string> known(seen_.begin(), seen_.end());
      return JsonError(PathOf(key), "unknown key" + DidYouMean(key, known));
    }
  }
  return {};
}

std::string DumpJson(const nlohmann::json& j, int indent) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace nsbuild::base
