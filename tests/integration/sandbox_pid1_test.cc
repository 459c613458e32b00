// The sandbox's PID 1, examined from the host as the command is: it runs
// next to the command for the whole build, so it must hold no capability in
// any set, have no_new_privs, and keep only the fd it needs (its status
// pipe to nsbuild) — none of the caller's fds, none of nsbuild's other
// pipes, not the stdio it was started with, and, as a build's sub-phase
// sets it up, neither the jobserver's pipe ends nor the log the command
// writes to (the command keeps those).
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

#include "sandbox/plan.h"
#include "sandbox/sandbox.h"
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

std::string Shown(const std::map<int, std::string>& fds) {
  std::string shown;
  for (const auto& [fd, what] : fds) shown += std::to_string(fd) + " -> " + what + "\n";
  return shown;
}

TEST_F(Pid1, HoldsOnlyItsStatusPipe) {
  if (FdTable(pid1_).empty() && !IsRoot()) {
    GTEST_SKIP() << "PID 1 is not dumpable: only root may read its fd table";
  }
  std::map<int, std::string> fds;
  bool done = Eventually([&] {
    fds = FdTable(pid1_);
    return fds.size() == 1;
  });
  EXPECT_TRUE(done) << Shown(fds);
  for (const auto& [fd, what] : fds) {
    EXPECT_EQ(what.find(leak_), std::string::npos) << "the caller's file reached PID 1\n"
                                                   << Shown(fds);
    EXPECT_EQ(what.rfind("pipe:", 0), 0u) << fd << " -> " << what;
  }
  // The command still has its stdio, which nsbuild gave it, and nothing of
  // the caller's either (PID 1 closed those before starting it).
  auto command = FdTable(command_);
  auto own = FdTable(nsbuild_);
  for (int fd : {0, 1, 2}) EXPECT_EQ(command[fd], own[fd]) << "fd " << fd;
  for (const auto& [fd, what] : command) {
    EXPECT_EQ(what.find(leak_), std::string::npos) << "the caller's file reached the command\n"
                                                   << Shown(command);
  }
  EXPECT_FALSE(command.count(8)) << Shown(command);
  EXPECT_FALSE(command.count(9)) << Shown(command);
}

// A build's sub-phase (builder/phase_request.cc): a jobserver's pipe ends
// passed at their numbers, stdout and stderr onto a log, stdin from
// /dev/null. The command holds them; PID 1, once the command runs, only
// its status pipe.
TEST(Pid1OfABuild, KeepsNeitherPassedFdsNorStdioTargets) {
  TempDir dir;
  int jobserver[2];
  ASSERT_EQ(pipe2(jobserver, O_CLOEXEC), 0);
  int log = open((dir.path() + "/log").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(log, 0);
  ASSERT_GE(null, 0);
  sandbox::Policy policy;
  policy.ro_binds = {
      sandbox::MountOp{.kind = sandbox::MountKind::kRoBind, .source = "/usr", .target = "/usr"}};
  policy.mirror_links = {"/bin", "/lib", "/lib64", "/sbin"};
  sandbox::RunRequest req;
  req.argv = {"/bin/sleep", "60"};
  req.pass_fds = {jobserver[0], jobserver[1]};
  req.stdin_fd = null;
  req.stdout_fd = req.stderr_fd = log;
  auto spec = sandbox::PlanSandbox(policy, req);
  ASSERT_TRUE(spec) << spec.error().Message();
  auto box = sandbox::Sandbox::Start(*spec);
  ASSERT_TRUE(box) << box.error().Message();
  pid_t pid1 = box->pid();

  // The command: PID 1's only child, holding what it was given.
  std::map<int, std::string> command;
  for (int i = 0; i < 200 && command.size() < 5; ++i) {
    std::ifstream children("/proc/" + std::to_string(pid1) + "/task/" + std::to_string(pid1) +
                           "/children");
    pid_t child = -1;
    if (children >> child) command = FdTable(child);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  auto ours = FdTable(getpid());
  EXPECT_EQ(command[jobserver[0]], ours[jobserver[0]]) << Shown(command);
  EXPECT_EQ(command[jobserver[1]], ours[jobserver[1]]) << Shown(command);
  EXPECT_EQ(command[1], ours[log]) << Shown(command);
  EXPECT_EQ(command[2], ours[log]) << Shown(command);

  if (FdTable(pid1).empty() && !IsRoot()) {
    GTEST_SKIP() << "PID 1 is not dumpable: only root may read its fd table";
  }
  std::map<int, std::string> fds;
  for (int i = 0; i < 200; ++i) {
    fds = FdTable(pid1);
    if (fds.size() == 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(fds.size(), 1u) << Shown(fds);
  const std::string& only = fds.begin()->second;
  EXPECT_EQ(only.rfind("pipe:", 0), 0u) << Shown(fds);
  for (int fd : {jobserver[0], jobserver[1], log, null}) {
    EXPECT_NE(only, ours[fd]) << "PID 1 still holds fd " << fd << "\n" << Shown(fds);
  }
  box->Signal(SIGKILL);
  auto info = box->Wait();
  EXPECT_TRUE(info) << info.error().Message();
  for (int fd : {jobserver[0], jobserver[1], log, null}) close(fd);
}

}  // namespace
}  // namespace nsbuild::testing
