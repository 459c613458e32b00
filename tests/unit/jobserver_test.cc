#include "builder/jobserver.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "tests/support/files.h"

namespace nsbuild::builder {
namespace {

TEST(JobServer, PoolHoldsJobsSlots) {
  auto js = JobServer::Create(3);
  ASSERT_TRUE(js.ok());
  EXPECT_EQ((*js)->Available(), 3);
  Token a = (*js)->TryAcquire();
  Token b = (*js)->TryAcquire();
  Token c = (*js)->TryAcquire();
  Token d = (*js)->TryAcquire();
  EXPECT_TRUE(a.valid() && b.valid() && c.valid());
  EXPECT_FALSE(d.valid());
  EXPECT_EQ((*js)->InUse(), 3);
  c.Release();
  EXPECT_EQ((*js)->Available(), 1);
  a = Token();
  b = Token();
  EXPECT_EQ((*js)->Available(), 3);
  EXPECT_EQ((*js)->InUse(), 0);
}

TEST(JobServer, MovedTokenIsReturnedOnce) {
  auto js = JobServer::Create(2);
  ASSERT_TRUE(js.ok());
  Token first = (*js)->TryAcquire();
  {
    Token t = (*js)->TryAcquire();
    ASSERT_TRUE(t.valid());
    Token moved = std::move(t);
    EXPECT_FALSE(t.valid());  // NOLINT: checking the moved-from state
    EXPECT_EQ((*js)->Available(), 0);
  }
  EXPECT_EQ((*js)->Available(), 1);
}

TEST(JobServer, LeaseMakeFlagsNameItsOwnBlockingPipe) {
  auto js = JobServer::Create(4);
  ASSERT_TRUE(js.ok());
  auto a = (*js)->OpenLease();
  auto b = (*js)->OpenLease();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ((*a)->MakeFlags(0), " -j4 --jobserver-auth=" + std::to_string((*a)->read_fd()) + "," +
                                    std::to_string((*a)->write_fd()));
  EXPECT_NE((*a)->read_fd(), (*b)->read_fd());
  EXPECT_EQ((*a)->pass_fds(), (std::vector<int>{(*a)->read_fd(), (*a)->write_fd()}));
  // make 4.3 blocks on this descriptor; the server's own reads never do.
  EXPECT_EQ(::fcntl((*a)->read_fd(), F_GETFL) & O_NONBLOCK, 0);
  // Each new lease got a token at once while the pool had one.
  EXPECT_EQ((*a)->Idle(), 1);
  EXPECT_EQ((*b)->Idle(), 1);
  EXPECT_EQ((*js)->Available(), 2);
}

TEST(JobServer, BalanceRefillsAnEmptyLeaseAndTakesBackIdleExtras) {
  auto js = JobServer::Create(3);
  ASSERT_TRUE(js.ok());
  auto lease = (*js)->OpenLease();
  ASSERT_TRUE(lease.ok());
  char buf[3];
  // A make reads its token; the next Balance gives another.
  ASSERT_EQ(::read((*lease)->read_fd(), buf, 1), 1);
  (*js)->Balance();
  EXPECT_EQ((*lease)->Idle(), 1);
  ASSERT_EQ(::read((*lease)->read_fd(), buf, 1), 1);
  (*js)->Balance();
  ASSERT_EQ(::read((*lease)->read_fd(), buf, 1), 1);
  (*js)->Balance();  // the pool is empty now: nothing more to give
  EXPECT_EQ((*lease)->Idle(), 0);
  EXPECT_EQ((*js)->Available(), 0);
  EXPECT_EQ((*js)->InUse(), 3);  // three jobs of one make, no sub-phase slot taken here
  // The make finishes its jobs and writes its tokens back: one stays idle
  // in the lease, the others go home.
  ASSERT_EQ(::write((*lease)->write_fd(), "+++", 3), 3);
  (*js)->Balance();
  EXPECT_EQ((*lease)->Idle(), 1);
  EXPECT_EQ((*js)->Available(), 2);
}

TEST(JobServer, ClosedLeaseReturnsTokensAKilledClientLost) {
  auto js = JobServer::Create(5);
  ASSERT_TRUE(js.ok());
  auto keep = (*js)->OpenLease();  // another sub-phase still running
  {
    auto lease = (*js)->OpenLease();
    ASSERT_TRUE(lease.ok());
    char b;
    ASSERT_EQ(::read((*lease)->read_fd(), &b, 1), 1);
    (*js)->Balance();
    ASSERT_EQ(::read((*lease)->read_fd(), &b, 1), 1);
    EXPECT_EQ((*lease)->out(), 2);
    // The client is SIGKILLed holding both; its sub-phase ends.
  }
  EXPECT_EQ((*js)->recovered(), 2);
  EXPECT_EQ((*js)->Available(), 4);  // at once, while `keep` still runs
  EXPECT_EQ((*keep)->Idle(), 1);
}

TEST(JobServer, StartingASubPhaseTakesBackAnIdleLeaseToken) {
  auto js = JobServer::Create(2);
  ASSERT_TRUE(js.ok());
  Token first = (*js)->TryAcquire();
  auto lease = (*js)->OpenLease();
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ((*lease)->Idle(), 1);  // parked, no make asked for it yet
  Token second = (*js)->TryAcquire();
  EXPECT_TRUE(second.valid());
  EXPECT_EQ((*lease)->Idle(), 0);
  EXPECT_FALSE((*js)->TryAcquire().valid());
}

TEST(JobServer, FifoLeasesAreNamedByPathAndPassNoFds) {
  nsbuild::testing::TempDir parent;
  base::UniqueFd parent_fd(::open(parent.path().c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  std::string dir = parent / "fifos";
  {
    auto js = JobServer::CreateFifoAt(3, base::BorrowedFd(parent_fd.get()), "fifos", dir,
                                      "/nsbuild/jobserver", ::getuid(), ::getgid());
    ASSERT_TRUE(js.ok()) << js.error().Message();
    std::string path;
    {
      auto lease = (*js)->OpenLease();
      ASSERT_TRUE(lease.ok()) << lease.error().Message();
      EXPECT_EQ((*lease)->MakeFlags(0), " -j3 --jobserver-auth=fifo:/nsbuild/jobserver");
      EXPECT_TRUE((*lease)->pass_fds().empty());
      path = (*lease)->fifo_path();
      EXPECT_EQ(path.rfind(dir + "/", 0), 0u) << path;
      // A client opens the path, as make 4.4 does, takes a token and dies.
      int client = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
      ASSERT_GE(client, 0);
      char b;
      EXPECT_EQ(::read(client, &b, 1), 1);
      ::close(client);
    }
    EXPECT_NE(::access(path.c_str(), F_OK), 0);  // removed with its lease
    EXPECT_EQ((*js)->recovered(), 1);
    EXPECT_EQ((*js)->Available(), 3);
  }
  EXPECT_NE(::access(dir.c_str(), F_OK), 0);  // and the dir with the server
}

TEST(JobServer, RejectsBadJobCounts) {
  EXPECT_FALSE(JobServer::Create(0).ok());
  EXPECT_FALSE(JobServer::Create(JobServer::kMaxJobs + 1).ok());
}

}  // namespace
}  // namespace nsbuild::builder
