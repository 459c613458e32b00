#include "builder/recipe.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "base/fs.h"
#include "base/json_reader.h"
#include "base/sha256.h"
#include "builder/build_systems.h"

namespace nsbuild::builder {
namespace {

using base::JsonError;
using base::JsonObject;
using base::Result;
using base::Status;

// Names every phase gets from nsbuild; a recipe may not redefine them, or a
// phase could point D at another implementation's image.
bool IsReservedEnv(const std::string& k) {
  static const char* const kReserved[] = {
      "IMPL", "PYTHON",    "EPYTHON",           "S",    "BUILD_DIR", "D",      "T",        "HOME",
      "JOBS", "MAKEFLAGS", "SOURCE_DATE_EPOCH", "PATH", "TMPDIR",    "MFLAGS", "MAKELEVEL"};
  for (const char* r : kReserved) {
    if (k == r) return true;
  }
  return false;
}

bool IsEnvName(const std::string& k) {
  if (k.empty() || (k[0] >= '0' && k[0] <= '9')) return false;
  for (char c : k) {
    if (!(c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
      return false;
  }
  return true;
}

// A command is a string, or an array of lines run as one `set -e` script so
// a failing line fails the phase.
Status ReadCommand(const nlohmann::json& v, const std::string& path, std::string* out) {
  if (v.is_string()) {
    *out = v.get<std::string>();
    return {};
  }
  if (!v.is_array()) return JsonError(path, "expected a string or an array of strings");
  std::string script = "set -e";
  for (size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_string())
      return JsonError(path + "[" + std::to_string(i) + "]", "expected a string");
    script += "\n" + v[i].get<std::string>();
  }
  *out = v.empty() ? "" : script;
  return {};
}

Status ReadPhases(JsonObject& parent, const std::string& key, PhaseCommands* out) {
  const nlohmann::json* j = parent.Child(key);
  if (!j) return {};
  JsonObject o(*j, parent.PathOf(key));
  NSB_TRY(o.Valid());
  for (int p = 0; p < kPhaseCount; ++p) {
    const nlohmann::json* c = o.Child(kPhaseNames[p]);
    if (c) NSB_TRY(ReadCommand(*c, o.PathOf(kPhaseNames[p]), &out->Get(p)));
  }
  return o.Finish();
}

Status ReadEnv(const nlohmann::json& j, const std::string& path,
               std::vector<std::pair<std::string, std::string>>* out) {
  if (!j.is_object()) return JsonError(path, "expected an object of strings");
  for (const auto& [k, v] : j.items()) {
    std::string at = path + "." + k;
    if (!IsEnvName(k)) return JsonError(at, "not a valid environment variable name");
    if (IsReservedEnv(k))
      return JsonError(at, "set by nsbuild for every phase; cannot be overridden");
    if (!v.is_string()) return JsonError(at, "expected a string");
    out->emplace_back(k, v.get<std::string>());
  }
  return {};
}

Status ReadGenericImpls(JsonObject& top, Recipe* r) {
  const nlohmann::json* j = top.Child("define_implementations");
  if (!j) return {};
  std::string path = top.PathOf("define_implementations");
  if (!j->is_object()) return JsonError(path, "expected an object of implementations");
  for (const auto& [name, def] : j->items()) {
    // The key names the target's directories and logs.
    NSB_TRY(CheckPathName(name, path + "." + name));
    if (name == "all")
      return JsonError(path + "." + name, "\"all\" is the target of the recipe's \"all\" phases");
    JsonObject o(def, path + "." + name);
    NSB_TRY(o.Valid());
    GenericImplDef g;
    g.name = name;
    NSB_TRY(o.Get("program", &g.program, true));
    if (g.program.empty() || g.program[0] != '/') {
      return JsonError(o.PathOf("program"), "must be an absolute path");
    }
    if (const nlohmann::json* env = o.Child("env")) NSB_TRY(ReadEnv(*env, o.PathOf("env"), &g.env));
    NSB_TRY(o.Finish());
    r->generic_impls.push_back(std::move(g));
  }
  return {};
}

// Image-relative directories: never absolute, never escaping the image.
Status CheckWrap(const std::vector<std::string>& wrap, const std::string& path) {
  for (size_t i = 0; i < wrap.size(); ++i) {
    std::filesystem::path p(wrap[i]);
    bool bad = wrap[i].empty() || p.is_absolute();
    for (const auto& part : p) bad = bad || part == "..";
    if (bad) {
      return JsonError(path + "[" + std::to_string(i) + "]",
                       "must be a relative path inside the image without '..'");
    }
  }
  return {};
}

// Places a build may never be handed, even as a private tmpfs: the kernel's
// views, the devices, the root and nsbuild's own mount points.
bool ForbiddenAddWrite(const std::string& p) {
  for (const char* top : {"/proc", "/sys", "/dev", "/nsbuild"}) {
    std::string t(top);
    if (p == t || p.rfind(t + "/", 0) == 0) return true;
  }
  return p == "/";
}

Status ReadAddWrite(JsonObject& top, Recipe* r) {
  const nlohmann::json* j = top.Child("addwrite");
  if (!j) return {};
  std::string path = top.PathOf("addwrite");
  if (!j->is_array()) return JsonError(path, "expected an array of {\"path\", \"reason\"} objects");
  for (size_t i = 0; i < j->size(); ++i) {
    JsonObject o((*j)[i], path + "[" + std::to_string(i) + "]");
    NSB_TRY(o.Valid());
    AddWrite a;
    NSB_TRY(o.Get("path", &a.path, true));
    NSB_TRY(o.Get("reason", &a.reason, true));
    NSB_TRY(o.Finish());
    std::filesystem::path p(a.path);
    bool dotdot = false;
    for (const auto& part : p) dotdot = dotdot || part == "..";
    if (!p.is_absolute() || dotdot) {
      return JsonError(o.PathOf("path"), "must be an absolute path without '..'");
    }
    a.path = p.lexically_normal().string();
    while (a.path.size() > 1 && a.path.back() == '/') a.path.pop_back();
    if (ForbiddenAddWrite(a.path)) {
      return JsonError(o.PathOf("path"),
                       "may not be /, /proc, /sys, /dev or /nsbuild (or below them)");
    }
    if (a.reason.empty())
      return JsonError(o.PathOf("reason"), "must say why the build needs to write there");
    r->addwrite.push_back(std::move(a));
  }
  return {};
}

// The recipe's source: a relative path that stays beneath the recipe's
// directory. Only lexical here; PlanBuild opens it beneath the directory's fd
// without following symlinks (source.h).
Status CheckSourcePath(const std::string& source, const std::string& at) {
  if (source.empty()) return JsonError(at, "must not be empty");
  std::filesystem::path p(source);
  if (p.is_absolute()) {
    return JsonError(at,
                     "must be relative to the recipe's directory (an absolute path names a host "
                     "place; the operator can give one with --source)");
  }
  std::filesystem::path n = p.lexically_normal();
  if (n.empty() || *n.begin() == "..") {
    return JsonError(at,
                     "must stay beneath the recipe's directory (no '..' out of it; the operator "
                     "can give another source with --source)");
  }
  return {};
}

// The class's scripts first: the recipe's own phases replace them one by
// one ("" or [] turns a default off).
Status ReadBuildSystem(JsonObject& o, Recipe* r) {
  NSB_TRY(o.Get("build_system", &r->build_system));
  if (!o.Has("build_system") || DefaultPhases(r->build_system, &r->phases)) return {};
  std::string known;
  for (const auto& n : BuildSystemNames()) known += (known.empty() ? "" : ", ") + n;
  return JsonError(o.PathOf("build_system"),
                   "unknown build system \"" + r->build_system + "\" (known: " + known + ")");
}

bool IsLowerHex(const std::string& s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// sha256, patches and prepare: what is done to the source once.
Status ReadSourceKeys(JsonObject& o, Recipe* r) {
  NSB_TRY(o.Get("sha256", &r->source_sha256));
  if (o.Has("sha256") && (r->source_sha256.size() != 64 || !IsLowerHex(r->source_sha256)))
    return JsonError(o.PathOf("sha256"), "must be 64 lowercase hex digits (sha256sum's output)");
  NSB_TRY(o.Get("patches", &r->patches));
  for (size_t i = 0; i < r->patches.size(); ++i) {
    std::string at = o.PathOf("patches") + "[" + std::to_string(i) + "]";
    NSB_TRY(CheckSourcePath(r->patches[i], at));
    r->patches[i] = std::filesystem::path(r->patches[i]).lexically_normal().string();
  }
  if (const nlohmann::json* p = o.Child("prepare"))
    NSB_TRY(ReadCommand(*p, o.PathOf("prepare"), &r->prepare));
  return {};
}

Status ReadScalars(JsonObject& o, Recipe* r) {
  NSB_TRY(o.Get("name", &r->name, true));
  NSB_TRY(o.Get("version", &r->version, true));
  NSB_TRY(o.Get("source", &r->source, true));
  NSB_TRY(o.Get("implementations", &r->implementations));
  for (size_t i = 0; i < r->implementations.size(); ++i) {
    NSB_TRY(CheckPathName(r->implementations[i],
                          o.PathOf("implementations") + "[" + std::to_string(i) + "]"));
  }
  NSB_TRY(o.Get("wrap", &r->wrap));
  NSB_TRY(CheckWrap(r->wrap, o.PathOf("wrap")));
  NSB_TRY(o.Get("policy", &r->policy));
  // Only the name of an installed policy, never a file (policy_file.h).
  if (o.Has("policy")) NSB_TRY(CheckPathName(r->policy, o.PathOf("policy")));
  int64_t epoch = -1;
  NSB_TRY(o.Get("source_date_epoch", &epoch));
  if (o.Has("source_date_epoch")) {
    if (epoch < 0) return JsonError(o.PathOf("source_date_epoch"), "must be >= 0");
    r->source_date_epoch = epoch;
  }
  int64_t timeout = 0;
  NSB_TRY(o.Get("timeout", &timeout));
  if (timeout < 0) return JsonError(o.PathOf("timeout"), "must be >= 0");
  r->timeout_seconds = static_cast<double>(timeout);
  return {};
}

Status CheckNames(const Recipe& r, const std::string& where) {
  // The name and version end up in directory names of the work dir and in
  // the installed-files database.
  NSB_TRY(CheckPathName(r.name, where + ": $.name"));
  NSB_TRY(CheckPathName(r.version, where + ": $.version"));
  return CheckSourcePath(r.source, where + ": $.source");
}

}  // namespace

std::string PathNameProblem(const std::string& s) {
  if (s.empty()) return "must not be empty";
  if (s.size() > kMaxPathNameLength) {
    return "longer than " + std::to_string(kMaxPathNameLength) + " characters";
  }
  if (s[0] == '.') return "must not start with '.'";
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '+' || c == '-';
    if (!ok) return "may hold only letters, digits and . _ + - (it becomes a file name)";
  }
  return "";
}

Status CheckPathName(const std::string& s, const std::string& json_path) {
  std::string why = PathNameProblem(s);
  if (why.empty()) return {};
  return JsonError(json_path, why);
}

Result<Recipe> ParseRecipe(const nlohmann::json& j, const std::string& where,
                           const std::string& dir) {
  JsonObject o(j, where + ": $");
  NSB_TRY(o.Valid());
  Recipe r;
  r.path = where;
  r.dir = dir;
  NSB_TRY(ReadScalars(o, &r));
  NSB_TRY(ReadSourceKeys(o, &r));
  NSB_TRY(ReadGenericImpls(o, &r));
  NSB_TRY(ReadBuildSystem(o, &r));
  NSB_TRY(ReadPhases(o, "phases", &r.phases));
  NSB_TRY(ReadPhases(o, "all", &r.all_phases));
  NSB_TRY(ReadAddWrite(o, &r));
  if (const nlohmann::json* env = o.Child("env")) NSB_TRY(ReadEnv(*env, o.PathOf("env"), &r.env));
  NSB_TRY(o.Finish());
  NSB_TRY(CheckNames(r, where));
  if (r.phases.Empty() && r.all_phases.Empty()) {
    return JsonError(where + ": $.phases", "no phase has a command");
  }
  r.source = std::filesystem::path(r.source).lexically_normal().string();
  return r;
}

Result<Recipe> LoadRecipe(const std::string& path) {
  // Read once: the hash recorded as the package's origin is of exactly the
  // bytes that were parsed, not of a second read the file may differ from.
  NSB_ASSIGN_OR_RETURN(std::string text, base::ReadFile(path));
  NSB_ASSIGN_OR_RETURN(nlohmann::json j, base::ParseJsonText(text, path));
  std::error_code ec;
  auto abs = std::filesystem::absolute(path, ec);
  std::string dir = ec ? "." : abs.parent_path().string();
  NSB_ASSIGN_OR_RETURN(Recipe r, ParseRecipe(j, path, dir));
  r.sha256 = base::Sha256Hex(text);
  return r;
}

}  // namespace nsbuild::builder
