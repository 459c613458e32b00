// Implementations: the registry of kinds nsbuild knows (CPython python3.X,
// PyPy pypy3, and generic ones a recipe defines), detection of what the host
// has installed and can run, and choosing the set one build uses.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "builder/recipe.h"

namespace nsbuild::builder {

enum class ImplKind { kCPython, kPyPy, kGeneric };
const char* KindName(ImplKind kind);

struct Implementation {
  std::string name;  // "python3.11", "pypy3", or a recipe's own name
  ImplKind kind = ImplKind::kCPython;
  std::string program;       // absolute path, the phases' $PYTHON
  std::string version;       // what the program reports, for people
  bool usable = false;       // it ran and answered
  bool dev_headers = false;  // Python.h is there: C extensions can be built
  std::vector<std::pair<std::string, std::string>> env;  // generic kinds only
};

// Which registry kind a name belongs to; false for names no kind claims.
bool KnownImplName(const std::string& name, ImplKind* kind);

// Runs argv with a clean environment (PATH, HOME=/nonexistent, no
// PYTHONPATH) and returns its stdout, or "" if it could not run or failed.
std::string RunCapture(const std::vector<std::string>& argv);

// Scans `dirs` for programs of the known kinds and asks each for its version
// and headers. One short process per candidate; unusable ones are listed
// with usable=false so `nsbuild impls` can say why.
std::vector<Implementation> DetectHostImpls(const std::vector<std::string>& dirs = {
                                                "/usr/local/bin", "/usr/bin"});

// The implementations one build runs for: the recipe's list (or every usable
// Python found), narrowed to `requested` (--impl) when given. A name that is
// not installed is an error listing what was found.
base::Result<std::vector<Implementation>> SelectImpls(const Recipe& recipe,
                                                      const std::vector<std::string>& requested,
                                                      const std::vector<Implementation>& found);

// The system's default Python, as `py3versions -d` says it ("python3.11"),
// read from the file py3versions reads; "" when there is none.
std::string DebianDefaultPython(const std::string& path = "/usr/share/python3/debian_defaults");

// The merge's preference order for files the implementations install
// differently (distutils-r1 prefers CPython): `default_python` first, then
// the other CPythons, newest first, then PyPy, then generic kinds, each in
// the order given.
std::vector<std::string> PreferenceOrder(const std::vector<Implementation>& impls,
                                         const std::string& default_python);

}  // namespace nsbuild::builder
