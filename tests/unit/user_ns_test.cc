// sandbox/user_ns.h and the IdMapping it resolves: the questions asked of a
// mapping (a range? whose? which host id?) answered by the mapping itself.
#include "sandbox/user_ns.h"

#include <gtest/gtest.h>
#include <unistd.h>

namespace nsbuild::sandbox {
namespace {

IdMapping Range(uid_t inside_uid, gid_t inside_gid) {
  IdMapping m;
  m.inside_uid = inside_uid;
  m.inside_gid = inside_gid;
  m.host_uid_base = 200000;
  m.host_gid_base = 300000;
  m.count = 65536;
  m.caller_owns = false;
  return m;
}

TEST(IdMapping, ARangeMapsEachInsideIdAboveItsBase) {
  IdMapping m = Range(1000, 100);
  EXPECT_TRUE(m.IsRange());
  EXPECT_FALSE(m.CallerOwnsIt());
  EXPECT_EQ(m.HostUid(0), 200000u);
  EXPECT_EQ(m.HostGid(5), 300005u);
  EXPECT_EQ(m.CommandHostUid(), 201000u);
  EXPECT_EQ(m.CommandHostGid(), 300100u);
  EXPECT_TRUE(m.CoversCommand());
  EXPECT_FALSE(Range(65536, 0).CoversCommand());
  EXPECT_FALSE(Range(0, 70000).CoversCommand());
  EXPECT_FALSE(CheckCoversCommand(Range(70000, 0)).ok());
}

TEST(IdMapping, ASingleIdMapsTheCommandsIdsOntoTheCaller) {
  IdMapping m;
  m.inside_uid = 1000;
  m.inside_gid = 1000;
  m.host_uid_base = 4242;
  m.host_gid_base = 4343;
  EXPECT_FALSE(m.IsRange());
  EXPECT_TRUE(m.CallerOwnsIt());
  EXPECT_EQ(m.CommandHostUid(), 4242u);
  EXPECT_EQ(m.CommandHostGid(), 4343u);
  EXPECT_TRUE(m.CoversCommand());
}

// Resolved from the caller's credentials: root maps the policy's range and
// owns none of it; anyone else maps only itself.
TEST(IdMapping, ThePolicysMappingFollowsTheCaller) {
  Policy p;
  p.inside_uid = 1000;
  p.inside_gid = 100;
  p.host_range = std::make_pair(200000u, 65536u);
  auto ids = PolicyIdMapping(p);
  ASSERT_TRUE(ids.ok()) << ids.error().Message();
  if (geteuid() == 0) {
    EXPECT_TRUE(ids->IsRange());
    EXPECT_FALSE(ids->CallerOwnsIt());
    EXPECT_EQ(ids->CommandHostUid(), 201000u);
    p.inside_uid = 70000;  // outside the range
    EXPECT_FALSE(PolicyIdMapping(p).ok());
  } else {
    EXPECT_FALSE(ids->IsRange());
    EXPECT_TRUE(ids->CallerOwnsIt());
    EXPECT_EQ(ids->CommandHostUid(), geteuid());
    EXPECT_EQ(ids->CommandHostGid(), getegid());
  }
}

}  // namespace
}  // namespace nsbuild::sandbox
