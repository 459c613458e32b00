// Each build class (builder/build_systems.h) builds a small project of its
// kind end to end: its install lands in $D under /usr, its tests run (and
// not under DEB_BUILD_OPTIONS=nocheck), and compilers get dpkg-buildflags.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "tests/integration/build_util.h"
#include "tests/support/harness.h"

namespace nsbuild::testing {
namespace {

namespace fs = std::filesystem;

// A C program whose test writes a marker into its build dir and whose
// install carries the CFLAGS it was compiled with.
constexpr const char* kMain = "#include <stdio.h>\nint main(void) { puts(FLAGS); return 0; }\n";

// One generic implementation running /bin/sh: these classes need no Python.
std::string Recipe(const std::string& system) {
  return R"({"name": "t", "version": "1", "source": "src", "build_system": ")" + system +
         R"(", "implementations": ["a"], "define_implementations": {"a": {"program": "/bin/sh"}}})";
}

void WriteProject(const TempDir& dir, const std::string& system) {
  Write(dir / "src/main.c", kMain);
  if (system == "make" || system == "autotools") {
    std::string mk =
        "prefix ?= /usr/local\n"
        "hello: main.c\n\t$(CC) $(CPPFLAGS) $(CFLAGS) -DFLAGS='\"'\"$$CFLAGS\"'\"' $(LDFLAGS) -o "
        "$@ main.c\n"
        "check: hello\n\t./hello > \"$$BUILD_DIR/checked\"\n"
        "install: hello\n\tinstall -D hello $(DESTDIR)$(prefix)/bin/hello\n";
    if (system == "make") {
      Write(dir / "src/Makefile", mk);
    } else {
      // A hand-written configure: writes the Makefile with the prefix it was given.
      Write(dir / "src/Makefile.in", mk);
      Write(dir / "src/configure",
            "#!/bin/sh\nfor a; do case $a in --prefix=*) p=${a#--prefix=} ;; esac; done\n"
            "{ echo \"prefix = $p\"; grep -v '^prefix' Makefile.in; } > Makefile\n");
      fs::permissions(dir / "src/configure", fs::perms::owner_all | fs::perms::group_read |
                                                 fs::perms::group_exec | fs::perms::others_read |
                                                 fs::perms::others_exec);
    }
  } else if (system == "cmake") {
    Write(dir / "src/CMakeLists.txt",
          "cmake_minimum_required(VERSION 3.13)\nproject(t C)\n"
          "add_executable(hello main.c)\n"
          "target_compile_definitions(hello PRIVATE \"FLAGS=\\\"$ENV{CFLAGS}\\\"\")\n"
          "install(TARGETS hello)\nenable_testing()\n"
          "add_test(NAME run COMMAND sh -c \"./hello > $ENV{BUILD_DIR}/checked\")\n");
  } else {
    Write(dir / "src/meson.build",
          "project('t', 'c')\n"
          "e = executable('hello', 'main.c', c_args: ['-DFLAGS=\"' + "
          "run_command('sh', '-c', 'echo $CFLAGS', check: true).stdout().strip() + '\"'], "
          "install: true)\n"
          "test('run', find_program('sh'), args: ['-c', e.full_path() + ' > ' + "
          "run_command('sh', '-c', 'echo $BUILD_DIR', check: true).stdout().strip() + "
          "'/checked'])\n");
  }
  Write(dir / "recipe.json", Recipe(system));
}

void BuildClass(const std::string& system, const std::string& tool) {
  if (!fs::exists(tool)) GTEST_SKIP() << tool << " is not installed";
  TempDir dir;
  WriteProject(dir, system);
  auto r = Nsbuild({"build", dir / "recipe.json", "--work-dir", dir / "w"});
  ASSERT_EQ(r.status, 0) << r.err;
  std::string hello = dir / "w/targets/a/image/usr/bin/hello";
  ASSERT_TRUE(fs::exists(hello)) << r.err;
  std::string checked = Read(dir / "w/targets/a/build/checked");
  EXPECT_NE(checked, "") << Read(dir / "w/logs/a-test.log");
  if (fs::exists("/usr/bin/dpkg-buildflags")) {
    EXPECT_NE(checked.find("-fstack-protector-strong"), std::string::npos) << checked;
  }
  auto off = RunCommand({NsbuildBin(), "build", dir / "recipe.json", "--work-dir", dir / "w2"},
                        {"DEB_BUILD_OPTIONS=nocheck"});
  ASSERT_EQ(off.status, 0) << off.err;
  EXPECT_FALSE(fs::exists(dir / "w2/targets/a/build/checked"));
  EXPECT_NE(Read(dir / "w2/logs/a-test.log").find("tests skipped: DEB_BUILD_OPTIONS has nocheck"),
            std::string::npos);
  EXPECT_TRUE(fs::exists(dir / "w2/targets/a/image/usr/bin/hello"));
}

TEST(BuildSystems, Make) { BuildClass("make", "/usr/bin/make"); }
TEST(BuildSystems, Autotools) { BuildClass("autotools", "/usr/bin/make"); }
TEST(BuildSystems, Cmake) { BuildClass("cmake", "/usr/bin/cmake"); }
TEST(BuildSystems, Meson) { BuildClass("meson", "/usr/bin/meson"); }

}  // namespace
}  // namespace nsbuild::testing
