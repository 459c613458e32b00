// Helpers for the tests that run the real nsbuild binary (integration and
// security): run it, capture its output and status. Tests assert what a
// user sees. Scratch directories and file helpers: files.h.
#pragma once

#include <string>
#include <vector>

#include "tests/support/files.h"

namespace nsbuild::testing {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif
#else
inline constexpr bool kSanitized = false;
#endif

// A peak-RSS bound for nsbuild as shipped. The sanitized build (tests/run.sh
// runs the suites against it too) carries ASan's shadow memory and
// quarantine, hundreds of MiB that nsbuild did not ask for; there the bound
// is 16 times wider, which still catches a file or a flood read whole
// (gigabytes) but not a 64 MiB creep.
constexpr long RssBoundKib(long shipped_kib) { return kSanitized ? shipped_kib * 16 : shipped_kib; }

struct CommandResult {
  int status = -1;  // exit status, or 128+signal
  std::string out;  // stdout
  std::string err;  // stderr
};

// The nsbuild binary under test: $NSBUILD_BIN, else the one built here.
std::string NsbuildBin();
// The source tree (examples/): $NSBUILD_SOURCE_DIR, else this checkout. The
// unprivileged test pass points it at a copy it can read.
std::string SourceDir();
// Runs argv with the given extra environment; stdin is /dev/null.
CommandResult RunCommand(const std::vector<std::string>& argv,
                         const std::vector<std::string>& extra_env = {});
// nsbuild ARGS...
CommandResult Nsbuild(const std::vector<std::string>& args);

}  // namespace nsbuild::testing
