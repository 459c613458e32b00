// Build classes (builder/build_systems.h) and the recipe keys that come with
// them and with real sources: build_system, sha256, patches, prepare.
#include "builder/build_systems.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "builder/recipe.h"
#include "builder/source_steps.h"
#include "tests/unit/recipe_text.h"

namespace nsbuild::builder {
namespace {

const std::string kHead = R"("name": "a", "version": "1", "source": "s")";

bool Has(const std::string& s, const std::string& part) { return s.find(part) != s.npos; }

TEST(BuildSystems, EveryClassInstallsIntoDAndStartsWithFlags) {
  for (const auto& name : BuildSystemNames()) {
    PhaseCommands p;
    ASSERT_TRUE(DefaultPhases(name, &p)) << name;
    for (int i = 0; i < kPhaseCount; ++i) {
      if (p.Get(i).empty()) continue;
      EXPECT_EQ(p.Get(i).rfind("set -e\n", 0), 0u) << name << ":" << kPhaseNames[i];
      EXPECT_TRUE(Has(p.Get(i), "dpkg-buildflags --export=sh")) << name;
    }
    EXPECT_TRUE(Has(p.install, "$D")) << name;
    EXPECT_TRUE(Has(p.test, "nocheck")) << name;
    EXPECT_FALSE(p.compile.empty()) << name;
  }
  PhaseCommands none;
  EXPECT_FALSE(DefaultPhases("scons", &none));
  EXPECT_TRUE(none.Empty());
}

TEST(BuildSystems, PythonClassesUseTheTargetsDebianScheme) {
  for (const char* name : {"pep517", "setup.py"}) {
    PhaseCommands p;
    ASSERT_TRUE(DefaultPhases(name, &p));
    EXPECT_TRUE(Has(p.install, "deb_system")) << name;
    EXPECT_TRUE(Has(p.install, "nsb_install_wheel \"$D\"")) << name;
    EXPECT_TRUE(Has(p.test, "pytest")) << name;
    EXPECT_TRUE(Has(p.test, "unittest discover")) << name;
  }
  PhaseCommands p;
  ASSERT_TRUE(DefaultPhases("pep517", &p));
  EXPECT_TRUE(Has(p.compile, "-m build --wheel --no-isolation"));
  EXPECT_TRUE(p.configure.empty());
  ASSERT_TRUE(DefaultPhases("cmake", &p));
  EXPECT_TRUE(Has(p.configure, "-DCMAKE_INSTALL_PREFIX=/usr"));
  EXPECT_TRUE(Has(p.configure, "-G \"Unix Makefiles\""));  // make: the jobserver
}

TEST(RecipeBuildSystem, FillsThePhasesTheRecipeLeavesOut) {
  auto r = Parse("{" + kHead + R"(, "build_system": "pep517",
      "phases": {"test": "", "install": ["echo one", "echo two"]}})");
  ASSERT_TRUE(r.ok()) << r.error().Message();
  PhaseCommands d;
  ASSERT_TRUE(DefaultPhases("pep517", &d));
  EXPECT_EQ(r->build_system, "pep517");
  EXPECT_EQ(r->phases.compile, d.compile);
  EXPECT_EQ(r->phases.test, "");  // turned off
  EXPECT_EQ(r->phases.install, "set -e\necho one\necho two");
  auto bare = Parse("{" + kHead + R"(, "build_system": "make"})");
  ASSERT_TRUE(bare.ok()) << bare.error().Message();
  EXPECT_FALSE(bare->phases.compile.empty());
}

TEST(RecipeBuildSystem, UnknownOrMistypedIsAnErrorWithItsPath) {
  EXPECT_EQ(ErrorOf("{" + kHead + R"(, "build_system": "pep518"})"),
            "r.json: $.build_system: unknown build system \"pep518\" (known: pep517, setup.py, "
            "autotools, cmake, meson, make)");
  EXPECT_TRUE(Has(ErrorOf("{" + kHead + R"(, "build_system": 1})"),
                  "r.json: $.build_system: expected a string"));
  EXPECT_TRUE(Has(ErrorOf("{" + kHead + R"(, "build_sytem": "make"})"),
                  "$.build_sytem: unknown key (did you mean 'build_system'?)"));
}

TEST(RecipeSourceKeys, Sha256PatchesAndPrepare) {
  std::string sum(64, 'a');
  auto r = Parse("{" + kHead + R"(, "build_system": "make", "sha256": ")" + sum +
                 R"(", "patches": ["p/../debian/patches/series", "fix.diff"],
      "prepare": ["sed -i s/a/b/ x", "true"]})");
  ASSERT_TRUE(r.ok()) << r.error().Message();
  EXPECT_EQ(r->source_sha256, sum);
  EXPECT_EQ(r->patches, (std::vector<std::string>{"debian/patches/series", "fix.diff"}));
  EXPECT_EQ(r->prepare, "set -e\nsed -i s/a/b/ x\ntrue");
}

TEST(RecipeSourceKeys, BadValuesNameTheirPath) {
  const std::string h = "{" + kHead + R"(, "build_system": "make", )";
  EXPECT_TRUE(Has(ErrorOf(h + R"("sha256": "ABC"})"), "r.json: $.sha256: must be 64 lowercase"));
  EXPECT_TRUE(Has(ErrorOf(h + R"("sha256": ")" + std::string(64, 'A') + "\"}"), "$.sha256"));
  EXPECT_TRUE(Has(ErrorOf(h + R"("patches": ["ok.diff", "/etc/passwd"]})"),
                  "r.json: $.patches[1]: must be relative"));
  EXPECT_TRUE(Has(ErrorOf(h + R"("patches": ["../out.diff"]})"),
                  "r.json: $.patches[0]: must stay beneath"));
  EXPECT_TRUE(Has(ErrorOf(h + R"("patches": "series"})"), "r.json: $.patches: expected"));
  EXPECT_TRUE(Has(ErrorOf(h + R"("prepare": [1]})"), "r.json: $.prepare[0]: expected a string"));
}

TEST(SourceSteps, SeriesListsNamesAndStripLevels) {
  auto s = ParseSeries("# a comment\nfirst.diff\n\n  second.patch -p0\nthird.diff -p2 # why\n");
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0], (std::pair<std::string, int>{"first.diff", 1}));
  EXPECT_EQ(s[1], (std::pair<std::string, int>{"second.patch", 0}));
  EXPECT_EQ(s[2], (std::pair<std::string, int>{"third.diff", 2}));
  EXPECT_TRUE(ParseSeries("").empty());
}

// Patches are opened beneath the recipe's directory, a series' names too.
TEST(SourceSteps, PatchesAreOpenedBeneathTheRecipe) {
  char tmpl[] = "/tmp/nsbuild-patches-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  std::filesystem::path dir(tmpl);
  std::filesystem::create_directories(dir / "debian/patches");
  std::ofstream(dir / "debian/patches/a.diff") << "a\n";
  std::ofstream(dir / "debian/patches/b.diff") << "b\n";
  std::ofstream(dir / "one.diff") << "one\n";
  std::ofstream(dir / "debian/patches/series") << "a.diff\nb.diff -p0\n";
  std::filesystem::create_symlink("/etc/passwd", dir / "link.diff");
  Recipe r;
  r.dir = dir.string();
  r.patches = {"one.diff", "debian/patches/series"};
  auto opened = OpenPatches(r);
  ASSERT_TRUE(opened.ok()) << opened.error().Message();
  ASSERT_EQ(opened->size(), 3u);
  EXPECT_EQ((*opened)[0].name, "one.diff");
  EXPECT_EQ((*opened)[1].name, "debian/patches/a.diff");
  EXPECT_EQ((*opened)[2].name, "debian/patches/b.diff");
  EXPECT_EQ((*opened)[2].strip, 0);
  r.patches = {"link.diff"};
  EXPECT_FALSE(OpenPatches(r).ok());  // a symlink on the way
  std::ofstream(dir / "debian/patches/series") << "../../../etc/passwd\n";
  r.patches = {"debian/patches/series"};
  auto out = OpenPatches(r);
  ASSERT_FALSE(out.ok());
  EXPECT_TRUE(Has(out.error().Message(), "must stay beneath the recipe's directory"));
  r.patches = {"missing.diff"};
  EXPECT_FALSE(OpenPatches(r).ok());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace nsbuild::builder
