// Where nsbuild finds what is installed with it (its policies, the exec
// dispatcher): beside its own binary, as PREFIX/bin/../share/..., never
// through a path compiled in. So an installed nsbuild is relocatable and
// never reads a build tree, and the build tree mirrors the installed layout
// (build/share/nsbuild/policies, build/libexec/nsbuild) so a built binary
// finds the same things the same way.
#pragma once

#include <string>

namespace nsbuild::base {

// The directory holding the running binary (from /proc/self/exe, symlinks
// resolved), or "" when the kernel cannot say.
std::string ExecutableDir();

// ExecutableDir() + "/" + relative, lexically normalised. `relative` is
// the path from the binary's directory, e.g. "../share/nsbuild/policies".
std::string BesideExecutable(const std::string& relative);

}  // namespace nsbuild::base
