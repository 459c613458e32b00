// Where a helper program verification uses is (disorderfs, fusermount,
// diffoscope): in the usual directories only, never a PATH the operator's
// environment could point elsewhere.
#pragma once

#include <string>

namespace nsbuild::verify {

// The full path of a program in the usual directories, "" if absent.
std::string FindProgram(const char* name);

}  // namespace nsbuild::verify
