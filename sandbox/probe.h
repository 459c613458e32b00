// What this kernel and this user can do, for `nsbuild doctor`. Each probe
// tries the real thing in a throwaway child rather than reading version
// numbers, because distributions patch and sysctls restrict.
#pragma once

#include <string>
#include <vector>

namespace nsbuild::sandbox {

struct ProbeResult {
  std::string name;
  bool ok = false;
  bool required = false;  // the default policy cannot run without it
  std::string detail;
};

std::vector<ProbeResult> ProbeKernel();

}  // namespace nsbuild::sandbox
