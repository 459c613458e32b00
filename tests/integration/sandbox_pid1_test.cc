// The sandbox's PID 1, examined from the host as the command is: it runs
// next to the command for the whole build, so it must hold no capability in
// any set, have no_new_privs, and keep only the fds it needs (its status
// pipe to nsbuild and the stdio it was started with) — none of the caller's
// fds, none of nsbuild's other pipes.
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "tests/integration/sandbox_test_util.h"

extern char** environ;

namespace nsbuild::testing {
namespace {

std::map<std::string, std::string> StatusFields(pid_t pid) {
  std::map<std::string, std::string> f;
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    size_t v = line.find_first_not_of(" \t", colon + 1);
    f[line.substr(0, colon)] = v == std::string::npos ? "" : line.substr(v);
  }
  return f;
}

pid_t FindCommand(const std::string& cmdline) {
  std::vector<pid_t> found = FindProcesses(cmdline, true);
  return found.empty() ? -1 : found.back();
}

// fd number -> what it points to, or empty when the table is unreadable.
std::map<int, std::string> FdTable(pid_t pid) {
  std::map<int, std::string> fds;
  std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  DIR* d = opendir(dir.c_str());
  while (dirent* e = d ? readdir(d) : nullptr) {
    if (e->d_name[0] == '.') continue;
    char buf[512];
    ssize_t n = readlink((dir + "/" + e->d_name).c_str(), buf, sizeof buf - 1);
    fds[atoi(e->d_name)] = n < 0 ? "?" : std::string(buf, static_cast<size_t>(n));
  }
  if (d) closedir(d);
  return fds;
}

class Pid1 : public ::testing::Test {
 protected:
  void SetUp() override {
    // nsbuild inherits a writable file at fd 9 and /dev/zero at fd 8, without
    // O_CLOEXEC: neither may reach PID 1.
    leak_ = dir_.path() + "/leak";
    std::string script = "exec 9>>'" + leak_ + "' 8</dev/zero; exec \"$@\"";
    // A sleep of this test process's own, told apart from the one a test
    // running in parallel under ctest starts.
    std::string marker = std::to_string(800000 + ::getpid());
    std::vector<std::string> args = {"/bin/sh", "-c", script,       "sh",  NsbuildBin(),
                                     "run",     "--", "/bin/sleep", marker};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ASSERT_EQ(posix_spawn(&nsbuild_, argv[0], nullptr, nullptr, argv.data(), environ), 0);
    for (int i = 0; i < 200 && command_ < 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      command_ = FindCommand("/bin/sleep " + marker + " ");
    }
    ASSERT_GT(command_, 0) << "the command never started";
    pid1_ = std::stoi(StatusFields(command_)["PPid"]);
  }
  void TearDown() override {
    if (nsbuild_ > 0) {
      kill(nsbuild_, SIGTERM);
      int status;
      waitpid(nsbuild_, &status, 0);
    }
  }
  // PID 1 finishes its own setup just after the command execs: poll.
  template <typename Pred>
  bool Eventually(Pred pred) {
    for (int i = 0; i < 200; ++i) {
      if (pred()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return pred();
  }

  TempDir dir_;
  std::string leak_;
  pid_t nsbuild_ = -1, command_ = -1, pid1_ = -1;
};

TEST_F(Pid1, IsTheCommandsParentAndPid1Inside) {
  auto f = StatusFields(pid1_);
  // NSpid: the host pid, then 1 in the sandbox's pid namespace.
  EXPECT_EQ(f["NSpid"], std::to_string(pid1_) + "\t1");
  EXPECT_EQ(StatusFields(command_)["NSpid"], std::to_string(command_) + "\t2");
  EXPECT_EQ(std::stoi(f["PPid"]), nsbuild_);
}

TEST_F(Pid1, HasNoCapabilitiesAndNoNewPrivs) {
  const char* zero = "0000000000000000";
  std::map<std::string, std::string> f;
  bool done = Eventually([&] {
    f = StatusFields(pid1_);
    return f["CapEff"] == zero && f["NoNewPrivs"] == "1";
  });
  EXPECT_TRUE(done);
  for (const char* set : {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"}) {
    EXPECT_EQ(f[set], zero) << set << " of PID 1 (host pid " << pid1_ << ")";
  }
  EXPECT_EQ(f["NoNewPrivs"], "1");
  // Neither may the command, checked from the same place.
  auto c = StatusFields(command_);
  for (const char* set : {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"}) {
    EXPECT_EQ(c[set], zero) << set << " of the command";
  }
}

TEST_F(Pid1, IsNotDumpableWhileTheCommandIs) {
  // The kernel gives a non-dumpable process's /proc files to root whatever
  // its ids: nothing inside may ptrace PID 1 or read its memory (nsbuild's).
  auto uid_of = [](pid_t pid) {
    std::istringstream f(StatusFields(pid)["Uid"]);
    long real = -1;
    f >> real;
    return real;
  };
  struct stat st;
  ASSERT_EQ(stat(("/proc/" + std::to_string(pid1_) + "/fd").c_str(), &st), 0);
  ASSERT_NE(uid_of(pid1_), 0) << "PID 1 runs as host root";
  EXPECT_EQ(st.st_uid, 0u) << "PID 1's /proc files belong to its uid: it is dumpable";
  ASSERT_EQ(stat(("/proc/" + std::to_string(command_) + "/fd").c_str(), &st), 0);
  EXPECT_EQ(static_cast<long>(st.st_uid), uid_of(command_));
}

TEST_F(Pid1, HoldsOnlyItsStatusPipeAndStdio) {
  if (FdTable(pid1_).empty() && !IsRoot()) {
    GTEST_SKIP() << "PID 1 is not dumpable: only root may read its fd table";
  }
  std::map<int, std::string> fds;
  bool done = Eventually([&] {
    fds = FdTable(pid1_);
    return fds.size() == 4;
  });
  std::string shown;
  for (const auto& [fd, what] : fds) shown += std::to_string(fd) + " -> " + what + "\n";
  EXPECT_TRUE(done) << shown;
  // 0-2 as nsbuild got them; above them one pipe, the status pipe.
  auto own = FdTable(nsbuild_);
  for (int fd : {0, 1, 2}) {
    ASSERT_TRUE(fds.count(fd)) << shown;
    EXPECT_EQ(fds[fd], own[fd]) << "fd " << fd;
  }
  int above = 0;
  for (const auto& [fd, what] : fds) {
    EXPECT_EQ(what.find(leak_), std::string::npos) << "the caller's file reached PID 1\n" << shown;
    if (fd > 2) {
      ++above;
      EXPECT_EQ(what.rfind("pipe:", 0), 0u) << fd << " -> " << what;
    }
  }
  EXPECT_EQ(above, 1) << shown;
  EXPECT_FALSE(fds.count(9)) << shown;
  EXPECT_FALSE(fds.count(8)) << shown;
}

}  // namespace
}  // namespace nsbuild::testing
