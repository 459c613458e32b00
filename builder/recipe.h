// Recipes: what to build and how, read from JSON at the edge into plain
// structs. Nothing past ParseRecipe sees JSON. Every key is documented in
// README.md, "Recipe format"; a key nobody reads is an error naming its JSON
// path.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "builder/phases.h"

namespace nsbuild::builder {

// An implementation the recipe itself defines (a generic kind): a program
// and the environment its phases get on top of the standard one.
struct GenericImplDef {
  std::string name;
  std::string program;  // absolute path; must exist and be executable
  std::vector<std::pair<std::string, std::string>> env;
};

// A host path the recipe lets its sub-phases write (Gentoo's addwrite), with
// the reason a reviewer reads in the report. The host is never written: the
// path gets a private, empty tmpfs per sub-phase, and writes there are not
// violations.
struct AddWrite {
  std::string path;  // absolute, normalised
  std::string reason;
};

struct Recipe {
  std::string path;    // the recipe file, for messages
  std::string dir;     // its directory: relative paths are resolved here
  std::string sha256;  // of the bytes that were parsed (LoadRecipe): the package's origin
  std::string name;
  std::string version;
  // A directory or a tarball, relative to `dir` and beneath it (checked
  // lexically here; opened beneath dir's fd by ResolveSource, source.h).
  std::string source;
  // The source's expected sha256 (lowercase hex; "" = not checked), compared
  // with the bytes nsbuild reads before anything unpacks them.
  std::string source_sha256;
  // Patches applied once to the prepared source, in order, before the
  // per-implementation copies: files relative to `dir` and beneath it; a
  // file named "series" is a quilt series listing patches beside it.
  std::vector<std::string> patches;
  // Run once after the patches, in a sandbox with the source writable
  // (distutils-r1's python_prepare_all); "" = none.
  std::string prepare;
  // The build class that supplied the phases the recipe left out ("" = none;
  // build_systems.h).
  std::string build_system;
  // Names to build for; empty = every Python implementation found.
  std::vector<std::string> implementations;
  std::vector<GenericImplDef> generic_impls;
  PhaseCommands phases;
  PhaseCommands all_phases;       // run once, after every implementation installed
  std::vector<std::string> wrap;  // image dirs whose executables get wrapped
  // The name of an installed policy the recipe asks for ("" = none); used
  // only when stricter than the operator's (policy_file.h, ChoosePolicy).
  std::string policy;
  std::optional<int64_t> source_date_epoch;              // default: newest mtime in source
  double timeout_seconds = 0;                            // per sub-phase, 0 = none
  std::vector<std::pair<std::string, std::string>> env;  // every phase
  std::vector<AddWrite> addwrite;
};

// Every recipe string that becomes a file name (name, version, implementation
// names, define_implementations keys, policy): letters, digits and . _ + -,
// not starting with '.', at most kMaxPathNameLength characters.
inline constexpr size_t kMaxPathNameLength = 64;
// Why `s` is not such a name, "" if it is.
std::string PathNameProblem(const std::string& s);
// The same as an error naming the JSON path.
base::Status CheckPathName(const std::string& s, const std::string& json_path);

// `where` names the document in errors ("recipe.json"); `dir` resolves
// relative source paths.
base::Result<Recipe> ParseRecipe(const nlohmann::json& j, const std::string& where,
                                 const std::string& dir);
base::Result<Recipe> LoadRecipe(const std::string& path);

}  // namespace nsbuild::builder
