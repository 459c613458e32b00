// The child's failure report names one step per label (sandbox/child/
// report.h): no two steps share a name, so a message says exactly which
// call failed.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "sandbox/spec.h"

namespace nsbuild::sandbox {
namespace {

TEST(SandboxSteps, EveryStepHasItsOwnName) {
  std::set<std::string> seen;
  int last = static_cast<int>(Step::kExec);
  for (int i = 0; i <= last; ++i) {
    std::string name = StepName(static_cast<Step>(i));
    EXPECT_NE(name, "unknown step") << "step " << i << " has no name";
    EXPECT_TRUE(seen.insert(name).second) << "two steps are both called '" << name << "'";
  }
  EXPECT_EQ(StepName(static_cast<Step>(last + 1)), std::string("unknown step"));
}

TEST(SandboxSteps, TheMessageNamesTheStepAndTheErrno) {
  SetupFailure f{Step::kNotDumpable, EPERM, ""};
  EXPECT_EQ(f.Message(),
            "sandbox setup failed at 'prctl(PR_SET_DUMPABLE, 0)': Operation not permitted");
  SetupFailure pivot{Step::kPivotRoot, EINVAL, "/tmp"};
  EXPECT_EQ(pivot.Message(), "sandbox setup failed at 'pivot_root' (/tmp): Invalid argument");
}

}  // namespace
}  // namespace nsbuild::sandbox
