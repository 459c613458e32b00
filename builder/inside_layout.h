// Where a sub-phase sees its directories: the one description of the inside
// paths, used for the mounts, the cwd and the standard variables alike.
// Every target of a build gets the same layout (so builds are reproducible
// across implementations), each backed by its own host directories:
//
//   ROOT/src    overlay: lower = the unpacked source (read-only),
//               upper = this target's own layer        → $S, the cwd
//   ROOT/build  $BUILD_DIR     ROOT/image  $D
//   ROOT/tmp    $T, $TMPDIR    HOME        $HOME (empty; ROOT/home)
//   ROOT/distcc $DISTCC_DIR (builds through distcc, distcc.h)
//
// verify's build_path and home factors change the value (verify/variation.h);
// nothing rewrites paths inside the variables after the fact, so a value the
// recipe's author wrote stays as written.
#pragma once

#include <string>

namespace nsbuild::builder {

struct InsideLayout {
  std::string root = "/nsbuild";
  std::string home;  // empty: root + "/home"

  std::string Source() const { return root + "/src"; }
  std::string Build() const { return root + "/build"; }
  std::string Image() const { return root + "/image"; }
  std::string Tmp() const { return root + "/tmp"; }
  std::string Home() const { return home.empty() ? root + "/home" : home; }
  std::string DistccDir() const { return root + "/distcc"; }
};

}  // namespace nsbuild::builder
