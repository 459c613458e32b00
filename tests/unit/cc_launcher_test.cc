#include "launcher/cc_launcher.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "builder/jobserver.h"

namespace nsbuild::testing {
namespace {

namespace fs = std::filesystem;
using launcher::Slot;

class LauncherDir : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("nsb-cc-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "masq");
    fs::create_directories(dir_ / "bin");
    fifo_ = (dir_ / "lease").string();
    ASSERT_EQ(::mkfifo(fifo_.c_str(), 0600), 0);
    // The server's end: keeps the fifo open, as nsbuild does.
    server_ = ::open(fifo_.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
  }
  void TearDown() override {
    ::close(server_);
    fs::remove_all(dir_);
  }
  int Idle() const {
    int n = 0;
    ::ioctl(server_, FIONREAD, &n);
    return n;
  }
  fs::path dir_;
  std::string fifo_;
  int server_ = -1;
};

TEST_F(LauncherDir, FindRealSkipsTheLauncherItself) {
  std::ofstream(dir_ / "launcher") << "#!/bin/sh\n";
  fs::permissions(dir_ / "launcher", fs::perms::owner_all);
  fs::create_symlink(dir_ / "launcher", dir_ / "masq/gcc");
  std::ofstream(dir_ / "bin/gcc") << "#!/bin/sh\n";
  fs::permissions(dir_ / "bin/gcc", fs::perms::owner_all);
  std::string self = fs::canonical(dir_ / "launcher").string();
  std::string path = "relative:" + (dir_ / "masq").string() + "::" + (dir_ / "bin").string();
  EXPECT_EQ(launcher::FindReal("gcc", path, self), (dir_ / "bin/gcc").string());
  EXPECT_EQ(launcher::FindReal("gcc", (dir_ / "masq").string(), self), "");
  EXPECT_EQ(launcher::FindReal("../bin/gcc", path, self), "");
}

TEST(CcLauncher, CountsOnceUnderMake) {
  // pid → {ppid, comm}
  std::map<pid_t, std::pair<pid_t, std::string>> procs = {
      {10, {9, "gcc"}},         {9, {8, "sh"}},    {8, {7, "make"}},   {20, {19, "gcc"}},
      {19, {18, "python3.11"}}, {18, {8, "sh"}},   {30, {29, "cc"}},   {29, {28, "ccache"}},
      {28, {8, "make"}},        {40, {39, "c++"}}, {39, {1, "ninja"}},
  };
  auto parent_of = [&](pid_t pid, pid_t* ppid, std::string* comm) {
    auto it = procs.find(pid);
    if (it == procs.end()) return false;
    *ppid = it->second.first;
    *comm = it->second.second;
    return true;
  };
  EXPECT_TRUE(launcher::UnderJobserverClient(10, parent_of));   // make's own job
  EXPECT_FALSE(launcher::UnderJobserverClient(20, parent_of));  // setuptools -j under make
  EXPECT_TRUE(launcher::UnderJobserverClient(30, parent_of));   // through ccache
  EXPECT_FALSE(launcher::UnderJobserverClient(40, parent_of));  // ninja 1.11
}

TEST_F(LauncherDir, FirstSlotIsTheImplicitOneThenTokens) {
  Slot a;
  ASSERT_EQ(a.Acquire(fifo_), 0);
  EXPECT_TRUE(a.implicit());
  ASSERT_EQ(::write(server_, "+", 1), 1);
  Slot b;
  ASSERT_EQ(b.Acquire(fifo_), 0);
  EXPECT_FALSE(b.implicit());
  EXPECT_EQ(Idle(), 0);
  b.Release();
  EXPECT_EQ(Idle(), 1);  // the token went back
  a.Release();
  EXPECT_EQ(Idle(), 1);  // the implicit slot writes nothing
}

TEST_F(LauncherDir, AWaiterGetsTheImplicitSlotWhenItIsFreed) {
  auto a = std::make_unique<Slot>();
  ASSERT_EQ(a->Acquire(fifo_), 0);
  bool got_implicit = false;
  std::thread waiter([&] {
    Slot b;
    if (b.Acquire(fifo_, 5) == 0) got_implicit = b.implicit();
  });
  a.reset();  // no token ever comes: only the lock can free the waiter
  waiter.join();
  EXPECT_TRUE(got_implicit);
  EXPECT_EQ(Idle(), 0);
}

TEST_F(LauncherDir, RefusesWhatIsNotAFifo) {
  std::ofstream(dir_ / "plain") << "+++";
  Slot s;
  EXPECT_EQ(s.Acquire((dir_ / "plain").string()), -1);
  EXPECT_FALSE(s.held());
}

// The real program: masquerading as `printf`, it runs /usr/bin/printf under
// a slot and gives the token back.
TEST_F(LauncherDir, BinaryRunsTheRealProgramUnderASlot) {
  fs::create_symlink(NSBUILD_CC, dir_ / "masq/printf");
  int holder = ::open(fifo_.c_str(), O_RDWR | O_CLOEXEC);  // takes the implicit slot
  ASSERT_EQ(::flock(holder, LOCK_EX | LOCK_NB), 0);
  ASSERT_EQ(::write(server_, "+", 1), 1);
  std::string out = (dir_ / "out").string();
  std::string cmd = "env -i PATH=" + (dir_ / "masq").string() +
                    ":/usr/bin:/bin NSBUILD_JOBSERVER=" + fifo_ + " " +
                    (dir_ / "masq/printf").string() + " ok > " + out;
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::ifstream in(out);
  std::string got((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(got, "ok");
  EXPECT_EQ(Idle(), 1);
  ::close(holder);
}

TEST_F(LauncherDir, BinaryPassesTheExitStatusOn) {
  fs::create_symlink(NSBUILD_CC, dir_ / "masq/false");
  std::string cmd = "env -i PATH=" + (dir_ / "masq").string() +
                    ":/usr/bin:/bin NSBUILD_JOBSERVER=" + fifo_ + " false";
  int st = std::system(cmd.c_str());
  ASSERT_TRUE(WIFEXITED(st));
  EXPECT_EQ(WEXITSTATUS(st), 1);
  EXPECT_EQ(Idle(), 0);
}

// Fifo leases for the launcher, still given to make 4.3 as descriptors.
TEST_F(LauncherDir, FifoLeasesAsDescriptors) {
  base::UniqueFd parent(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  auto js =
      builder::JobServer::CreateFifoAt(2, base::BorrowedFd(parent), "js", (dir_ / "js").string(),
                                       "/nsbuild/jobserver", ::geteuid(), ::getegid());
  ASSERT_TRUE(js.ok());
  (*js)->set_fifo_as_descriptors(true);
  EXPECT_TRUE((*js)->fifo_leases());
  auto lease = (*js)->OpenLease();
  ASSERT_TRUE(lease.ok());
  std::string want = "--jobserver-auth=" + std::to_string((*lease)->read_fd()) + "," +
                     std::to_string((*lease)->write_fd());
  EXPECT_NE((*lease)->MakeFlags(0).find(want), std::string::npos);
  EXPECT_EQ((*lease)->pass_fds().size(), 2u);
  EXPECT_FALSE((*lease)->fifo_path().empty());
  // A launcher's slot by path and make's by descriptor share the one lease.
  Slot s;
  ASSERT_EQ(s.Acquire((*lease)->fifo_path()), 0);
  EXPECT_TRUE(s.implicit());
}

}  // namespace
}  // namespace nsbuild::testing
