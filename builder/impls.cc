#include "builder/impls.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <regex>
#include <sstream>

#include "base/fs.h"
#include "base/subprocess.h"

namespace nsbuild::builder {
namespace {

// Prints the version line, then whether Python.h exists where sysconfig
// says the headers are. Works on every CPython 3 and PyPy 3.
constexpr const char* kProbe =
    "import os, sys, sysconfig\n"
    "print(sys.version.split()[0] + (' (PyPy ' + '.'.join(map(str, sys.pypy_version_info[:3])) + "
    "')'"
    " if hasattr(sys, 'pypy_version_info') else ''))\n"
    "print(os.path.exists(os.path.join(sysconfig.get_paths()['include'], 'Python.h')))\n";

}  // namespace

std::string RunCapture(const std::vector<std::string>& argv) {
  base::SpawnOptions opts;
  opts.argv = argv;
  opts.env = std::vector<std::string>{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/nonexistent"};
  opts.fds = {{0, base::kDevNull}, {2, base::kDevNull}};
  // Two lines are expected; a megabyte is more than any probe prints.
  auto got = base::RunCapturingStdout(std::move(opts), size_t{1} << 20);
  if (!got.ok() || base::ExitCodeOf(got->wait_status) != 0) return "";
  return got->out;
}

namespace {

bool IsExecutableFile(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

void Probe(Implementation* impl) {
  std::string out = RunCapture({impl->program, "-c", kProbe});
  auto nl = out.find('\n');
  if (nl == std::string::npos) return;
  impl->usable = true;
  impl->version = out.substr(0, nl);
  impl->dev_headers = out.compare(nl + 1, 4, "True") == 0;
}

std::string Join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

std::string FoundList(const std::vector<Implementation>& found) {
  std::string s;
  for (const auto& f : found) {
    if (!f.usable) continue;
    s += (s.empty() ? "" : ", ") + f.name;
  }
  return s.empty() ? "none" : s;
}

const Implementation* FindUsable(const std::vector<Implementation>& v, const std::string& name) {
  for (const auto& i : v) {
    if (i.name == name && i.usable) return &i;
  }
  return nullptr;
}

// Generic kinds come from the recipe; they are usable when their program is.
std::vector<Implementation> WithGenerics(const Recipe& recipe, std::vector<Implementation> found) {
  for (const auto& g : recipe.generic_impls) {
    Implementation i;
    i.name = g.name;
    i.kind = ImplKind::kGeneric;
    i.program = g.program;
    i.usable = IsExecutableFile(g.program);
    i.env = g.env;
    found.push_back(std::move(i));
  }
  return found;
}

}  // namespace

const char* KindName(ImplKind kind) {
  switch (kind) {
    case ImplKind::kCPython:
      return "cpython";
    case ImplKind::kPyPy:
      return "pypy";
    case ImplKind::kGeneric:
      return "generic";
  }
  return "?";
}

bool KnownImplName(const std::string& name, ImplKind* kind) {
  static const std::regex kCPython("python3\\.[0-9]+");
  if (std::regex_match(name, kCPython)) {
    *kind = ImplKind::kCPython;
    return true;
  }
  if (name == "pypy3") {
    *kind = ImplKind::kPyPy;
    return true;
  }
  return false;
}

std::vector<Implementation> DetectHostImpls(const std::vector<std::string>& dirs) {
  std::vector<Implementation> found;
  for (const auto& dir : dirs) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
      std::string name = entry.path().filename().string();
      ImplKind kind;
      if (!KnownImplName(name, &kind)) continue;
      // The first directory wins, as on PATH.
      bool seen = std::any_of(found.begin(), found.end(), [&](auto& f) { return f.name == name; });
      if (seen || !IsExecutableFile(entry.path().string())) continue;
      Implementation impl;
      impl.name = name;
      impl.kind = kind;
      impl.program = entry.path().string();
      Probe(&impl);
      found.push_back(std::move(impl));
    }
  }
  std::sort(found.begin(), found.end(), [](auto& a, auto& b) { return a.name < b.name; });
  return found;
}

base::Result<std::vector<Implementation>> SelectImpls(const Recipe& recipe,
                                                      const std::vector<std::string>& requested,
                                                      const std::vector<Implementation>& detected) {
  std::vector<Implementation> found = WithGenerics(recipe, detected);
  std::vector<std::string> names = recipe.implementations;
  if (names.empty()) {
    for (const auto& f : found) {
      if (f.usable && f.kind != ImplKind::kGeneric) names.push_back(f.name);
    }
  }
  if (!requested.empty()) {
    for (const auto& r : requested) {
      if (std::find(names.begin(), names.end(), r) == names.end() &&
          !recipe.implementations.empty()) {
        return base::PlainError("--impl " + r + ": the recipe does not build for it (it lists " +
                                [&] {
                                  std::string s;
                                  for (auto& n : names) s += (s.empty() ? "" : ", ") + n;
                                  return s;
                                }() +
                                ")");
      }
    }
    names = requested;
  }
  std::vector<Implementation> out;
  std::vector<std::string> missing;
  for (const auto& n : names) {
    if (std::any_of(out.begin(), out.end(), [&](auto& o) { return o.name == n; })) continue;
    const Implementation* impl = FindUsable(found, n);
    if (impl)
      out.push_back(*impl);
    else
      missing.push_back(n);
  }
  if (!missing.empty()) {
    return base::PlainError("implementation(s) not installed or not usable: " + Join(missing) +
                            " (found: " + FoundList(found) + ")");
  }
  if (out.empty())
    return base::PlainError("no implementation to build for (found: " + FoundList(found) + ")");
  return out;
}

namespace {

// python3.X → X, for ordering CPythons by version; -1 for other names.
int MinorOf(const std::string& name) {
  if (name.rfind("python3.", 0) != 0 || name.size() == 8) return -1;
  int minor = 0;
  for (char c : name.substr(8)) {
    if (c < '0' || c > '9') return -1;
    minor = minor * 10 + (c - '0');
  }
  return minor;
}

}  // namespace

std::string DebianDefaultPython(const std::string& path) {
  auto text = base::ReadFile(path);
  if (!text.ok()) return "";
  std::istringstream in(*text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("default-version", 0) != 0) continue;
    auto eq = line.find('=');
    if (eq == std::string::npos) return "";
    std::string v = line.substr(eq + 1);
    v.erase(0, v.find_first_not_of(" \t"));
    v.erase(v.find_last_not_of(" \t\r") + 1);
    return v;
  }
  return "";
}

std::vector<std::string> PreferenceOrder(const std::vector<Implementation>& impls,
                                         const std::string& default_python) {
  std::vector<const Implementation*> order;
  for (const auto& i : impls) order.push_back(&i);
  auto rank = [&](const Implementation* i) {
    if (i->name == default_python) return 0;
    return i->kind == ImplKind::kCPython ? 1 : i->kind == ImplKind::kPyPy ? 2 : 3;
  };
  std::stable_sort(order.begin(), order.end(),
                   [&](const Implementation* a, const Implementation* b) {
                     if (rank(a) != rank(b)) return rank(a) < rank(b);
                     return rank(a) == 1 && MinorOf(a->name) > MinorOf(b->name);
                   });
  std::vector<std::string> out;
  for (const auto* i : order) out.push_back(i->name);
  return out;
}

}  // namespace nsbuild::builder
