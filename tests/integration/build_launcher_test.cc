// The compiler launcher (launcher/cc_launcher.h) in real builds: compiles a
// shell starts in the background (as setuptools' build -j or ninja 1.11 do)
// stay within -j across implementations; compiles make starts are counted
// once (make's token, no second slot).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/integration/build_util.h"
#include "tests/support/harness.h"

namespace nsbuild::testing {
namespace {

namespace fs = std::filesystem;

// A "compiler" that records, from inside the sandbox, when it ran. It sits
// right after the launcher's directory on PATH, so the launcher runs it as
// the real cc.
constexpr const char* kFakeCc =
    "#!/bin/sh\necho \"$(date +%s.%N) $(sleep 0.3; date +%s.%N)\" > $D/$1.times\n";
constexpr const char* kFakeFirst = "export PATH=/nsbuild/launcher:$S/bin:/usr/bin:/bin";

void WriteFakeCc(const TempDir& dir) {
  // Not bin/ alone: a source of one directory would be entered.
  Write(dir / "src/README", "");
  Write(dir / "src/bin/cc", kFakeCc);
  fs::permissions(dir / "src/bin/cc", fs::perms::all);
}

TEST(BuildLauncher, BackgroundCompilesStayWithinJobs) {
  TempDir dir;
  WriteFakeCc(dir);
  Write(dir / "r.json", ShellRecipe(std::string(R"({"compile": [")") + kFakeFirst +
                                    R"(", "for i in 1 2 3 4 5 6; do cc t$i & done; wait"]})"));
  auto r = Nsbuild(
      {"build", dir / "r.json", "--work-dir", dir / "w", "-j2", "--report", dir / "report.json"});
  ASSERT_EQ(r.status, 0) << r.err << Read(dir / "w/logs/a-compile.log");
  int count = 0;
  int peak = PeakOverlap({dir / "w/targets/a/image", dir / "w/targets/b/image"}, &count);
  EXPECT_EQ(count, 12);
  EXPECT_LE(peak, 2);
  EXPECT_TRUE(fs::is_symlink(dir / "w/launcher/gcc"));
}

TEST(BuildLauncher, CompilesUnderMakeTakeOnlyMakesToken) {
  TempDir dir;
  WriteFakeCc(dir);
  std::string makefile =
      "T := t1 t2 t3 t4 t5 t6 t7 t8\nall: $(T)\n$(T):\n\tcc $@\n.PHONY: all $(T)\n";
  Write(dir / "src/Makefile", makefile);
  Write(dir / "r.json", R"({"name": "t", "version": "1", "source": "src",
    "implementations": ["a"], "define_implementations": {"a": {"program": "/bin/sh"}},
    "phases": {"compile": [")" +
                            std::string(kFakeFirst) + R"(", "make"]}})");
  auto r = Nsbuild({"build", dir / "r.json", "--work-dir", dir / "w", "-j4"});
  ASSERT_EQ(r.status, 0) << r.err << Read(dir / "w/logs/a-compile.log");
  int count = 0;
  int peak = PeakOverlap({dir / "w/targets/a/image"}, &count);
  EXPECT_EQ(count, 8);
  EXPECT_LE(peak, 4);
  // Counted twice (make's token and a launcher slot), four jobs would be
  // at most two compiles at once.
  EXPECT_GT(peak, 2);
}

}  // namespace
}  // namespace nsbuild::testing
