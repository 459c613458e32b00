// The compiler launcher's directory of a run (launcher/cc_launcher.h):
// WORK/launcher, made fresh by nsbuild (root-owned, 0755, bound read-only
// into every sub-phase at kInsideLauncherDir, first on its PATH), holding a
// copy of nsbuild-cc and the compiler names as symlinks to it.
//
// What each tool then gets (one pool of N jobs in every case):
//   make, ninja >= 1.13, cargo   speak the jobserver through MAKEFLAGS
//                                (the lease's R,W or fifo:): their jobs
//                                take tokens; the launcher sees make or
//                                cargo above it and takes none.
//   setuptools build -j N,       do not: each compile they start goes
//   ninja 1.11 (meson, cmake),   through the launcher, which takes a slot
//   cmake --build --parallel     of the lease by $NSBUILD_JOBSERVER.
// ninja >= 1.13 is not told apart from 1.11: under it a compile takes a
// launcher slot as well as ninja's token (fewer jobs than N, never more);
// a recipe sets NSBUILD_CC_LAUNCHER=off in its env to turn the launcher off.
#pragma once

#include <string>

#include "base/result.h"

namespace nsbuild::builder {

class WorkDir;

inline constexpr const char* kInsideLauncherDir = "/nsbuild/launcher";

// The installed launcher, relative to nsbuild's binary; "" when missing.
std::string FindLauncherBinary();
// Makes WORK/launcher from `binary`; returns its host path.
base::Result<std::string> MakeLauncherDir(const WorkDir& work, const std::string& binary);

class JobServer;
// The launcher's directory for a build whose leases are fifos (the launcher
// takes its slots by their path), "" otherwise or when it cannot be made
// (a warning: the build runs without it).
std::string LauncherDirFor(const JobServer& jobs, const WorkDir& work);

}  // namespace nsbuild::builder
