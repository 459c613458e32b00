// nsbuild run's bind arguments: a path holding ':' gets in as `\:`.
#include <gtest/gtest.h>

#include "tests/integration/build_util.h"
#include "tests/support/harness.h"

namespace nsbuild::testing {
namespace {

TEST(RunBind, EscapedColonInAPath) {
  TempDir dir;
  Write(dir / "a:b/f", "inside");
  auto r = Nsbuild({"run", "--ro-bind", dir / "a\\:b" + ":/x", "--", "cat", "/x/f"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "inside");
}

}  // namespace
}  // namespace nsbuild::testing
