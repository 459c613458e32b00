// A real Debian source package built the way examples/real/ and the README's
// "Packaging a real package" say: fetched once with apt-get source into a
// cache (as the benchmarks do), built for python3.11 and pypy3 by its build
// class alone, merged without a preference, imported from the merged root.
#include <gtest/gtest.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "tests/integration/build_util.h"
#include "tests/support/harness.h"

namespace nsbuild::testing {
namespace {

bool Usable(const nlohmann::json& list, const std::string& name) {
  for (const auto& i : list) {
    if (i["name"] == name && i["usable"] == true && i["dev_headers"] == true) return true;
  }
  return false;
}

// $NSBUILD_REAL_CACHE, else where root's first run leaves it for every later one.
std::string CacheDir() {
  const char* c = std::getenv("NSBUILD_REAL_CACHE");
  return c && *c ? c : "/var/cache/nsbuild-real";
}

std::string LastLine(std::string s) {
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s.substr(s.rfind('\n') + 1);
}

TEST(RealPackage, MarkupsafeBuildsMergesAndImportsUnderEachPython) {
  auto impls = nlohmann::json::parse(Nsbuild({"impls", "--json"}).out);
  if (!Usable(impls, "python3.11") || !Usable(impls, "pypy3"))
    GTEST_SKIP() << "needs python3.11 and pypy3 with headers (python3-dev, pypy3-dev)";
  auto fetched = RunCommand(
      {"bash", SourceDir() + "/examples/real/fetch.sh", "markupsafe", CacheDir() + "/markupsafe"});
  if (fetched.status == 3) {
    GTEST_SKIP() << "markupsafe's Debian source could not be fetched (" << LastLine(fetched.err)
                 << "); run the test once as root with the archive reachable";
  }
  ASSERT_EQ(fetched.status, 0) << fetched.err;
  TempDir dir;
  auto r = Nsbuild({"build", LastLine(fetched.out), "--impl", "python3.11", "--impl", "pypy3",
                    "--work-dir", dir / "w", "--dest", dir / "dest"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err.find("preferred"), std::string::npos) << r.err;
  std::string site = dir / "dest/usr/lib/python3/dist-packages";
  // CPython with the C speedups; the one distribution lists both
  // implementations' files, the .so among them.
  auto cp = RunCommand({"/usr/bin/python3.11", "-c",
                        "import markupsafe, importlib.metadata as m; "
                        "print(markupsafe.escape.__module__, markupsafe.escape('<a>'), "
                        "[str(f) for f in m.files('MarkupSafe') if str(f).endswith('.so')])"},
                       {"PYTHONPATH=" + site});
  EXPECT_EQ(cp.status, 0) << cp.err;
  EXPECT_EQ(
      cp.out,
      "markupsafe._speedups &lt;a&gt; ['markupsafe/_speedups.cpython-311-x86_64-linux-gnu.so']\n");
  auto pp = RunCommand({"/usr/bin/pypy3", "-c",
                        "import markupsafe, importlib.metadata as m; "
                        "print(markupsafe.escape('<a>'), m.version('MarkupSafe'))"},
                       {"PYTHONPATH=" + site});
  EXPECT_EQ(pp.status, 0) << pp.err;
  EXPECT_EQ(pp.out, "&lt;a&gt; 2.1.2\n");
  std::string wheel = Read(site + "/MarkupSafe-2.1.2.dist-info/WHEEL");
  EXPECT_NE(wheel.find("Tag: cp311-cp311-linux_x86_64"), std::string::npos) << wheel;
  EXPECT_NE(wheel.find("Tag: py3-none-any"), std::string::npos) << wheel;
}

// The README's recipe examples are the shipped files, byte for byte (its
// list indentation aside), so what a reader copies is what the tests build.
std::string JsonBlockAfter(const std::string& text, const std::string& marker) {
  size_t at = text.find(marker);
  if (at == std::string::npos) return "marker not found: " + marker;
  size_t open = text.find("```json\n", at);
  size_t start = open + 8;
  std::string indent = text.substr(text.rfind('\n', open) + 1, open - text.rfind('\n', open) - 1);
  size_t end = text.find(indent + "```", start);
  std::string out;
  for (size_t i = start; i < end;) {
    size_t nl = text.find('\n', i);
    std::string line = text.substr(i, nl - i);
    if (line.rfind(indent, 0) == 0) line.erase(0, indent.size());
    out += line + "\n";
    i = nl + 1;
  }
  return out;
}

TEST(Readme, RecipeExamplesAreTheShippedFiles) {
  std::string readme = Read(SourceDir() + "/README.md");
  EXPECT_EQ(JsonBlockAfter(readme, "Example (`examples/cext/recipe.json`"),
            Read(SourceDir() + "/examples/cext/recipe.json"));
  EXPECT_EQ(JsonBlockAfter(readme, "**The recipe** (`examples/real/lxml/recipe.json`)"),
            Read(SourceDir() + "/examples/real/lxml/recipe.json"));
}

}  // namespace
}  // namespace nsbuild::testing
