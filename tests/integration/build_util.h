// Shared by the tests that drive `nsbuild build`: a recipe of shell-only
// implementations.
#pragma once

#include <algorithm>
#include <filesystem>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/harness.h"

namespace nsbuild::testing {

// A recipe whose implementations are generic kinds running /bin/sh, so these
// tests need no particular Python.
inline std::string ShellRecipe(const std::string& phases, const std::string& extra = "") {
  return R"({"name": "t", "version": "1", "source": "src",
    "implementations": ["a", "b"],
    "define_implementations": {"a": {"program": "/bin/sh"}, "b": {"program": "/bin/sh"}},
    "phases": )" +
         phases + extra + "}";
}

// `nsbuild build` of ShellRecipe(phases) with an empty source, into
// DIR/w, for implementation a only; `extra` are more arguments.
inline CommandResult BuildShell(const TempDir& dir, const std::string& phases,
                                std::vector<std::string> extra = {}) {
  Write(dir / "src/x", "");
  Write(dir / "r.json", ShellRecipe(phases));
  std::vector<std::string> args = {"build", dir / "r.json", "--work-dir", dir / "w", "--impl", "a"};
  args.insert(args.end(), extra.begin(), extra.end());
  return Nsbuild(args);
}

// Most jobs ever running at once, from the START END intervals recorded in
// the `*.times` files of `dirs`; `count`, when given, gets how many there were.
inline int PeakOverlap(const std::vector<std::string>& dirs, int* count = nullptr) {
  std::vector<std::pair<double, int>> events;
  for (const auto& d : dirs) {
    for (const auto& e : std::filesystem::directory_iterator(d)) {
      if (e.path().extension() != ".times") continue;
      double start = 0, end = 0;
      std::istringstream(Read(e.path())) >> start >> end;
      events.push_back({start, 1});
      events.push_back({end, -1});
    }
  }
  if (count) *count = static_cast<int>(events.size() / 2);
  std::sort(events.begin(), events.end());  // at a tie, an end (-1) sorts first
  int now = 0, peak = 0;
  for (auto [t, delta] : events) peak = std::max(peak, now += delta);
  return peak;
}

// How often `what` occurs in `text`.
inline size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace nsbuild::testing
