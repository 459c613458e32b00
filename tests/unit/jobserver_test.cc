#include "builder/jobserver.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

namespace nsbuild::builder {
namespace {

TEST(JobServer, PoolHoldsJobsMinusOneTokensPlusImplicitSlot) {
  auto js = JobServer::Create(3);
  ASSERT_TRUE(js.ok());
  EXPECT_EQ((*js)->Available(), 2);
  Token a = (*js)->TryAcquire();
  Token b = (*js)->TryAcquire();
  Token c = (*js)->TryAcquire();
  Token d = (*js)->TryAcquire();
  EXPECT_TRUE(a.valid() && a.implicit());
  EXPECT_TRUE(b.valid() && !b.implicit());
  EXPECT_TRUE(c.valid());
  EXPECT_FALSE(d.valid());
  EXPECT_EQ((*js)->InUse(), 3);
  c.Release();
  EXPECT_EQ((*js)->Available(), 1);
  a = Token();
  b = Token();
  EXPECT_EQ((*js)->Available(), 2);
  EXPECT_EQ((*js)->InUse(), 0);
}

TEST(JobServer, MovedTokenIsReturnedOnce) {
  auto js = JobServer::Create(2);
  ASSERT_TRUE(js.ok());
  Token implicit = (*js)->TryAcquire();
  {
    Token t = (*js)->TryAcquire();
    ASSERT_TRUE(t.valid());
    Token moved = std::move(t);
    EXPECT_FALSE(t.valid());  // NOLINT: checking the moved-from state
    EXPECT_EQ((*js)->Available(), 0);
  }
  EXPECT_EQ((*js)->Available(), 1);
}

TEST(JobServer, MakeFlagsNameTheBlockingPipe) {
  auto js = JobServer::Create(4);
  ASSERT_TRUE(js.ok());
  std::string flags = (*js)->MakeFlags(0);
  EXPECT_EQ(flags, " -j4 --jobserver-auth=" + std::to_string((*js)->read_fd()) + "," +
                       std::to_string((*js)->write_fd()));
  // make 4.3 blocks on this descriptor; our own reads use another one.
  EXPECT_EQ(::fcntl((*js)->read_fd(), F_GETFL) & O_NONBLOCK, 0);
  EXPECT_NE(::fcntl((*js)->poll_fd(), F_GETFL) & O_NONBLOCK, 0);
}

TEST(JobServer, ReconcileRestoresTokensAClientLost) {
  auto js = JobServer::Create(5);
  ASSERT_TRUE(js.ok());
  char buf[3];
  // A client (a killed make) read three tokens and never wrote them back.
  ASSERT_EQ(::read((*js)->read_fd(), buf, 3), 3);
  EXPECT_EQ((*js)->Available(), 1);
  auto n = (*js)->Reconcile();
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 3);
  EXPECT_EQ((*js)->Available(), 4);
  // A buggy client wrote two tokens it never took: they are drained.
  ASSERT_EQ(::write((*js)->write_fd(), "++", 2), 2);
  n = (*js)->Reconcile();
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, -2);
  EXPECT_EQ((*js)->Available(), 4);
}

TEST(JobServer, FifoFormIsNamedByPathAndPassesNoFds) {
  std::string path = ::testing::TempDir() + "/jobserver_test.fifo";
  {
    auto js = JobServer::CreateFifo(3, path, "/nsbuild/jobserver", ::getuid(), ::getgid());
    ASSERT_TRUE(js.ok()) << js.error().Message();
    EXPECT_EQ((*js)->MakeFlags(0), " -j3 --jobserver-auth=fifo:/nsbuild/jobserver");
    EXPECT_TRUE((*js)->pass_fds().empty());
    EXPECT_EQ((*js)->Available(), 2);
    // A client opens the path, as make 4.4 does, takes a token and dies.
    int client = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    ASSERT_GE(client, 0);
    char b;
    EXPECT_EQ(::read(client, &b, 1), 1);
    ::close(client);
    auto n = (*js)->Reconcile();
    ASSERT_TRUE(n.ok());
    EXPECT_EQ(*n, 1);
    EXPECT_EQ((*js)->Available(), 2);
  }
  EXPECT_NE(::access(path.c_str(), F_OK), 0);  // removed with the server
}

TEST(JobServer, RejectsBadJobCounts) {
  EXPECT_FALSE(JobServer::Create(0).ok());
  EXPECT_FALSE(JobServer::Create(JobServer::kMaxJobs + 1).ok());
}

}  // namespace
}  // namespace nsbuild::builder
