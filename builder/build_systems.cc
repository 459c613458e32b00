#include "builder/build_systems.h"

namespace nsbuild::builder {
namespace {

// Every script starts here: fail on the first failing line, and compile with
// Debian's hardening flags (CFLAGS, CXXFLAGS, CPPFLAGS, LDFLAGS...) when
// dpkg-dev is installed, as debhelper does.
constexpr const char* kPrelude = R"sh(set -e
if command -v dpkg-buildflags >/dev/null 2>&1; then eval "$(dpkg-buildflags --export=sh)"; fi
)sh";

// Tests are skipped, successfully, when the operator asks (Debian Policy
// 4.9.1; the policy's environment must keep DEB_BUILD_OPTIONS).
constexpr const char* kNocheck = R"sh(case " $DEB_BUILD_OPTIONS " in
  *" nocheck "*) echo "nsbuild: tests skipped: DEB_BUILD_OPTIONS has nocheck"; exit 0 ;;
esac
)sh";

// Wheels are installed by the host's python3 (pypy3 need not have the
// installer module) into the *target's* Debian scheme (deb_system:
// /usr/lib/python3/dist-packages, /usr/bin), which $PYTHON itself reports;
// scripts get $PYTHON's #!. No bytecode: it would be compiled by the wrong
// interpreter, and Debian compiles at install time anyway.
constexpr const char* kPythonHelpers = R"sh(nsb_scheme() {
  "$PYTHON" -c 'import json, sysconfig as s; n = "deb_system" if "deb_system" in s.get_scheme_names() else None; print(json.dumps(s.get_paths(n) if n else s.get_paths()))'
}
nsb_install_wheel() {  # ROOT WHEEL
  nsb_scheme > "$T/nsbuild-scheme.json"
  /usr/bin/python3 -c 'if True:
    import json, os, sys
    from installer import install
    from installer.destinations import SchemeDictionaryDestination
    from installer.sources import WheelFile
    py, scheme_file, root, wheel = sys.argv[1:5]
    p = json.load(open(scheme_file))
    with WheelFile.open(wheel) as w:
        scheme = {k: p[k] for k in ("purelib", "platlib", "scripts", "data")}
        scheme["headers"] = os.path.join(p["include"], w.distribution)
        dest = SchemeDictionaryDestination(scheme, interpreter=py, script_kind="posix", destdir=root)
        install(w, dest, {"INSTALLER": b"nsbuild\n"})
' "$PYTHON" "$T/nsbuild-scheme.json" "$1" "$2"
}
nsb_site() {  # ROOT: where $PYTHON imports the installed package from
  echo "$1$("$PYTHON" -c 'import sysconfig as s; n = "deb_system" if "deb_system" in s.get_scheme_names() else None; print(s.get_paths(n)["platlib"] if n else s.get_paths()["platlib"])')"
}
)sh";

// The package's tests against its installed copy: pytest when $PYTHON has
// it, unittest otherwise; no tests/ or test/ directory is no failure.
constexpr const char* kPythonTest = R"sh(dir=
for d in tests test; do if [ -d "$S/$d" ]; then dir=$S/$d; break; fi; done
if [ -z "$dir" ]; then echo "nsbuild: no tests/ or test/ directory: no tests run"; exit 0; fi
rm -rf "$T/test-root"
nsb_install_wheel "$T/test-root" "$BUILD_DIR"/dist/*.whl
site=$(nsb_site "$T/test-root")
cd "$T"
if why=$("$PYTHON" -c 'import pytest' 2>&1); then
  rc=0
  PYTHONPATH="$site" "$PYTHON" -m pytest -p no:cacheprovider "$dir" || rc=$?
  if [ "$rc" -eq 5 ]; then echo "nsbuild: pytest collected no tests"; rc=0; fi
  exit "$rc"
fi
echo "nsbuild: pytest does not import under $EPYTHON ($(echo "$why" | tail -n 1)): running unittest"
PYTHONPATH="$site" "$PYTHON" -m unittest discover -v -s "$dir"
)sh";

// `make check` (or `make test`) when the Makefile has that target.
constexpr const char* kMakeTest = R"sh(for t in check test; do
  if make -n "$t" >/dev/null 2>&1; then make "$t"; exit 0; fi
done
echo "nsbuild: no check or test target: no tests run"
)sh";

// Which helpers a class's scripts use.
enum Helpers { kNone = 0, kPython = 1 };

struct BuildSystem {
  const char* name;
  int helpers;
  const char* configure;
  const char* compile;
  const char* test;  // kNocheck is put in front
  const char* install;
};

const BuildSystem kBuildSystems[] = {
    {"pep517", kPython, "",
     R"sh("$PYTHON" -m build --wheel --no-isolation --outdir "$BUILD_DIR/dist" "$S"
)sh",
     kPythonTest, R"sh(nsb_install_wheel "$D" "$BUILD_DIR"/dist/*.whl
)sh"},
    {"setup.py", kPython, "",
     R"sh("$PYTHON" setup.py build --parallel "$JOBS" bdist_wheel --dist-dir "$BUILD_DIR/dist"
)sh",
     kPythonTest, R"sh(nsb_install_wheel "$D" "$BUILD_DIR"/dist/*.whl
)sh"},
    {"autotools", kNone,
     R"sh(if [ ! -x ./configure ] && [ -f configure.ac ]; then autoreconf -fi; fi
./configure --prefix=/usr --sysconfdir=/etc --localstatedir=/var
)sh",
     "make\n", kMakeTest, R"sh(make install DESTDIR="$D"
)sh"},
    {"cmake", kNone,
     R"sh(cmake -S "$S" -B "$BUILD_DIR" -G "Unix Makefiles" -DCMAKE_BUILD_TYPE=None \
  -DCMAKE_INSTALL_PREFIX=/usr -DCMAKE_INSTALL_SYSCONFDIR=/etc -DCMAKE_INSTALL_LOCALSTATEDIR=/var \
  -DPython3_EXECUTABLE="$PYTHON" -DPYTHON_EXECUTABLE="$PYTHON"
)sh",
     R"sh(cmake --build "$BUILD_DIR"
)sh",
     R"sh(ctest --test-dir "$BUILD_DIR" --output-on-failure
)sh",
     R"sh(DESTDIR="$D" cmake --install "$BUILD_DIR"
)sh"},
    {"meson", kNone,
     R"sh(meson setup "$BUILD_DIR" "$S" --prefix=/usr --buildtype=plain --wrap-mode=nodownload
)sh",
     R"sh(ninja -C "$BUILD_DIR" -j "$JOBS"
)sh",
     R"sh(meson test -C "$BUILD_DIR" --print-errorlogs
)sh",
     R"sh(meson install -C "$BUILD_DIR" --destdir "$D" --no-rebuild
)sh"},
    {"make", kNone, "", "make prefix=/usr PREFIX=/usr\n", kMakeTest,
     R"sh(make install DESTDIR="$D" prefix=/usr PREFIX=/usr
)sh"},
};

std::string Script(const BuildSystem& bs, const char* body, bool test) {
  if (body[0] == '\0') return "";
  std::string s = kPrelude;
  if (bs.helpers & kPython) s += kPythonHelpers;
  if (test) s += kNocheck;
  s += body;
  return s;
}

}  // namespace

std::vector<std::string> BuildSystemNames() {
  std::vector<std::string> out;
  for (const auto& bs : kBuildSystems) out.emplace_back(bs.name);
  return out;
}

bool DefaultPhases(const std::string& name, PhaseCommands* out) {
  for (const auto& bs : kBuildSystems) {
    if (name != bs.name) continue;
    out->configure = Script(bs, bs.configure, false);
    out->compile = Script(bs, bs.compile, false);
    out->test = Script(bs, bs.test, true);
    out->install = Script(bs, bs.install, false);
    return true;
  }
  return false;
}

}  // namespace nsbuild::builder
