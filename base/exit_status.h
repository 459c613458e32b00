// nsbuild's documented exit statuses (README, "Exit status"). Every command
// returns one of these; they live in base so that the layers that decide a
// status (builder, verify) need not include the command line.
#pragma once

namespace nsbuild::base {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // the job ran and failed (build, check)
inline constexpr int kExitUsage = 2;    // bad arguments or input, nothing was done
inline constexpr int kExitSetup = 125;  // the sandbox could not be set up

}  // namespace nsbuild::base
