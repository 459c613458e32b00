// Every typed getter of JsonObject against every JSON type it must refuse:
// a wrong type is an error naming the path, never a silent conversion (an
// integer field that took 0.9 truncated a timeout to "none").
#include "base/json_reader.h"

#include <gtest/gtest.h>

#include <functional>
#include <limits>

namespace nsbuild::base {
namespace {

using nlohmann::json;

// One value of each JSON type, with the edge cases of numbers.
std::vector<std::pair<std::string, json>> Values() {
  return {{"null", nullptr},
          {"true", true},
          {"false", false},
          {"0.9", 0.9},
          {"1.0", json::parse("1.0")},
          {"-0.5", -0.5},
          {"1e3", json::parse("1e3")},
          {"2^64-1", json::parse("18446744073709551615")},
          {"2^63", json::parse("9223372036854775808")},
          {"0", 0},
          {"-7", -7},
          {"int64 max", std::numeric_limits<int64_t>::max()},
          {"int64 min", std::numeric_limits<int64_t>::min()},
          {"\"1\"", "1"},
          {"\"\"", ""},
          {"[]", json::array()},
          {"[\"a\"]", json::array({"a"})},
          {"[1]", json::array({1})},
          {"{}", json::object()}};
}

// Which values each getter accepts; every other one must be refused.
bool StringAccepts(const json& v) { return v.is_string(); }
bool BoolAccepts(const json& v) { return v.is_boolean(); }
bool IntAccepts(const json& v) {
  return v.is_number_integer() &&
         (!v.is_number_unsigned() ||
          v.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()));
}
bool ListAccepts(const json& v) {
  if (!v.is_array()) return false;
  for (const auto& e : v) {
    if (!e.is_string()) return false;
  }
  return true;
}

struct Getter {
  const char* name;
  bool (*accepts)(const json&);
  // Runs the getter on key "k"; on refusal *unchanged says whether the
  // output kept its earlier value.
  std::function<Status(JsonObject&, bool* unchanged)> get;
};

std::vector<Getter> Getters() {
  return {
      {"string", StringAccepts,
       [](JsonObject& o, bool* unchanged) {
         std::string out = "before";
         Status s = o.Get("k", &out);
         *unchanged = out == "before";
         return s;
       }},
      {"bool", BoolAccepts,
       [](JsonObject& o, bool* unchanged) {
         bool out = true;
         Status s = o.Get("k", &out);
         *unchanged = out;
         return s;
       }},
      {"int64", IntAccepts,
       [](JsonObject& o, bool* unchanged) {
         int64_t out = 4242;
         Status s = o.Get("k", &out);
         *unchanged = out == 4242;
         return s;
       }},
      {"string list", ListAccepts,
       [](JsonObject& o, bool* unchanged) {
         std::vector<std::string> out = {"before"};
         Status s = o.Get("k", &out);
         *unchanged = out == std::vector<std::string>{"before"};
         return s;
       }},
  };
}

TEST(JsonGetters, EveryGetterAgainstEveryJsonType) {
  for (const Getter& g : Getters()) {
    for (const auto& [label, value] : Values()) {
      json doc = {{"k", value}};
      JsonObject o(doc, "$");
      bool unchanged = false;
      Status s = g.get(o, &unchanged);
      if (g.accepts(value)) {
        EXPECT_TRUE(s.ok()) << g.name << " refused " << label << ": " << s.error().Message();
        continue;
      }
      ASSERT_FALSE(s.ok()) << g.name << " getter accepted " << label;
      EXPECT_EQ(s.error().Message().rfind("$.k", 0), 0u) << s.error().Message();
      EXPECT_TRUE(unchanged) << g.name << " wrote its output although it refused " << label;
      // The key was asked for, so Finish does not call it unknown.
      EXPECT_TRUE(o.Finish().ok()) << g.name << " " << label;
    }
  }
}

TEST(JsonGetters, AcceptedValuesReadBackExactly) {
  json doc = {{"s", "x"},
              {"b", false},
              {"i", -7},
              {"max", std::numeric_limits<int64_t>::max()},
              {"l", {"a", "b"}}};
  JsonObject o(doc, "$");
  std::string s;
  bool b = true;
  int64_t i = 0, max = 0;
  std::vector<std::string> l;
  ASSERT_TRUE(o.Get("s", &s).ok() && o.Get("b", &b).ok() && o.Get("i", &i).ok() &&
              o.Get("max", &max).ok() && o.Get("l", &l).ok());
  EXPECT_EQ(s, "x");
  EXPECT_FALSE(b);
  EXPECT_EQ(i, -7);
  EXPECT_EQ(max, std::numeric_limits<int64_t>::max());
  EXPECT_EQ(l, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(o.Finish().ok());
}

TEST(JsonGetters, IntegersPastInt64AreRefusedNotWrapped) {
  for (const char* text : {"18446744073709551615", "9223372036854775808"}) {
    json doc = {{"k", json::parse(text)}};
    JsonObject o(doc, "$");
    int64_t out = 1;
    Status s = o.Get("k", &out);
    EXPECT_FALSE(s.ok()) << text << " read as " << out;
    EXPECT_EQ(out, 1);
  }
}

TEST(JsonGetters, AListWithOneWrongElementNamesItsIndex) {
  for (json bad : {json(1), json(0.5), json(true), json(nullptr), json::array(), json::object()}) {
    json doc = {{"k", {"a", bad}}};
    JsonObject o(doc, "$");
    std::vector<std::string> out;
    Status s = o.Get("k", &out);
    ASSERT_FALSE(s.ok()) << bad.dump();
    EXPECT_EQ(s.error().Message().rfind("$.k[1]", 0), 0u) << s.error().Message();
    EXPECT_TRUE(out.empty());
  }
}

TEST(JsonGetters, MissingRequiredKeysAndNonObjects) {
  json doc = json::object();
  JsonObject o(doc, "$");
  std::string s;
  bool b;
  int64_t i;
  std::vector<std::string> l;
  EXPECT_FALSE(o.Get("s", &s, true).ok());
  EXPECT_FALSE(o.Get("b", &b, true).ok());
  EXPECT_FALSE(o.Get("i", &i, true).ok());
  EXPECT_FALSE(o.Get("l", &l, true).ok());
  EXPECT_TRUE(o.Get("absent", &s).ok());
  for (json not_object : {json(1), json("x"), json::array(), json(nullptr)}) {
    JsonObject n(not_object, "$");
    EXPECT_FALSE(n.Valid().ok()) << not_object.dump();
    EXPECT_FALSE(n.Has("k"));
  }
}

}  // namespace
}  // namespace nsbuild::base
