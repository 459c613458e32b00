// The sandbox as a process tree: exit statuses, fds, stray processes, the
// host uid, timeouts, and bad input that must leave nothing behind.
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "tests/integration/sandbox_test_util.h"

extern char** environ;

namespace nsbuild::testing {
namespace {

// The host's mounts, less those other tests make on purpose while ctest runs
// them in parallel (verify's disorderfs views, the host-side suite's victim
// tmpfs): `nsbuild run` makes neither, so they cannot hide a leak of its own.
size_t MountCount() {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  size_t n = 0;
  while (std::getline(in, line)) {
    if (line.find(" - fuse.disorderfs ") != std::string::npos) continue;
    if (line.find(" nsbuild-victim ") != std::string::npos) continue;
    ++n;
  }
  return n;
}

TEST(SandboxProcess, ExitStatusIsTheCommands) {
  EXPECT_EQ(RunSh("exit 0").status, 0);
  EXPECT_EQ(RunSh("exit 42").status, 42);
  EXPECT_EQ(RunSh("kill -TERM $$").status, 128 + SIGTERM);
  auto missing = Nsbuild({"run", "--", "no-such-command-xyz"});
  EXPECT_EQ(missing.status, 127);
  EXPECT_NE(missing.err.find("no-such-command-xyz: command not found"), std::string::npos);
  EXPECT_EQ(Nsbuild({"run", "--", "/etc/passwd"}).status, 126);
}

TEST(SandboxProcess, InheritedFdWithoutCloexecIsNotVisible) {
  TempDir dir;
  std::string leak = dir.path() + "/leak";
  std::ofstream(leak) << "x";
  // fd 9 without O_CLOEXEC: nsbuild inherits it; the sandbox must not.
  std::string script = "exec 9<'" + leak + "'; exec \"$@\"";
  auto r =
      RunCommand({"/bin/sh", "-c", script, "sh", NsbuildBin(), "run", "--", "/usr/bin/python3",
                  "-c", "import os; print(sorted(int(f) for f in os.listdir('/proc/self/fd')))"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "[0, 1, 2, 3]\n");  // 3 is listdir's own
}

TEST(SandboxProcess, BackgroundProcessesDieWithTheSandbox) {
  auto r = RunSh("sleep 987654 & sleep 987654 & echo started");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "started\n");
  EXPECT_TRUE(FindProcesses("sleep 987654").empty());
}

TEST(SandboxProcess, HostSeesAnUnprivilegedUid) {
  pid_t pid;
  std::vector<std::string> args = {NsbuildBin(), "run", "--", "/bin/sleep", "876543"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  ASSERT_EQ(posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ), 0);
  std::vector<pid_t> found;
  for (int i = 0; i < 100 && found.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    // The command itself, not nsbuild or its PID 1 (which carry nsbuild's
    // command line and are host root until the id maps are in place).
    found = FindProcesses("/bin/sleep 876543", true);
  }
  ASSERT_FALSE(found.empty());
  for (pid_t p : found) {
    if (p == pid) continue;
    std::ifstream in("/proc/" + std::to_string(p) + "/status");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("Uid:", 0) == 0) {
        std::istringstream fields(line.substr(4));
        long ruid, euid;
        fields >> ruid >> euid;
        EXPECT_NE(ruid, 0) << line;
        EXPECT_NE(euid, 0) << line;
        if (geteuid() != 0) {
          EXPECT_EQ(euid, static_cast<long>(geteuid()));
        }
      }
    }
  }
  kill(pid, SIGTERM);  // forwarded to the command through PID 1
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 128 + SIGTERM);
  EXPECT_TRUE(FindProcesses("sleep 876543").empty());
}

TEST(SandboxProcess, TimeoutKillsEverything) {
  auto r = RunSh("sleep 765432 & sleep 765432", {"--timeout", "0.5"});
  EXPECT_EQ(r.status, 128 + SIGKILL);
  EXPECT_NE(r.err.find("timed out"), std::string::npos);
  EXPECT_TRUE(FindProcesses("sleep 765432").empty());
}

TEST(SandboxProcess, JsonStatusDescribesTheRun) {
  TempDir dir;
  std::string file = dir.path() + "/status.json";
  auto r = RunSh("exit 3", {"--json-status", file});
  EXPECT_EQ(r.status, 3);
  std::ifstream in(file);
  auto j = nlohmann::json::parse(in);
  EXPECT_EQ(j["exit_status"], 3);
  EXPECT_EQ(j["exit_code"], 3);
  EXPECT_GT(j["pid"].get<int>(), 0);
  EXPECT_GT(j["max_rss_kib"].get<long>(), 0);
  EXPECT_GE(j["wall_seconds"].get<double>(), 0.0);
  auto ns = j["namespaces"].get<std::vector<std::string>>();
  for (const char* want : {"user", "mnt", "pid", "net", "ipc", "uts", "cgroup"}) {
    EXPECT_NE(std::find(ns.begin(), ns.end(), want), ns.end()) << want;
  }
}

TEST(SandboxProcess, BadInputIsOneLineAndLeavesNothing) {
  TempDir dir;
  std::string bad_policy = dir.path() + "/bad.json";
  std::ofstream(bad_policy) << "{\"sandbox\": {\"network\": \"loopback\",\n \"filesytem\": {}}}";
  std::string broken = dir.path() + "/broken.json";
  std::ofstream(broken) << "{\"sandbox\": {\n  oops }";
  size_t mounts = MountCount();
  struct Case {
    std::vector<std::string> args;
    int status;
    std::string says;
  } cases[] = {
      {{"run", "--bind", "/no/such/dir", "--", "true"}, 2, "/no/such/dir"},
      {{"run", "--bind", "relative/dir", "--", "true"}, 2, "not an absolute path"},
      {{"run", "--policy", bad_policy, "--", "true"}, 2, "$.sandbox.filesytem: unknown key"},
      {{"run", "--policy", broken, "--", "true"}, 2, "broken.json:2:"},
      {{"run", "--policy", "no-such-policy", "--", "true"}, 2, "not found"},
      {{"run", "--tmpfs", "/a/../b", "--", "true"}, 2, "normalised"},
      {{"run", "--net", "internet", "--", "true"}, 2, "net"},
      {{"run"}, 2, "no command"},
  };
  for (const auto& c : cases) {
    auto r = Nsbuild(c.args);
    EXPECT_EQ(r.status, c.status) << c.args[1] << " " << r.err;
    EXPECT_NE(r.err.find(c.says), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  EXPECT_EQ(MountCount(), mounts);
}

TEST(SandboxProcess, ManySandboxesInARowLeaveNoTrace) {
  size_t mounts = MountCount();
  for (int i = 0; i < 20; ++i) ASSERT_EQ(RunSh("true").status, 0);
  EXPECT_EQ(MountCount(), mounts);
}

}  // namespace
}  // namespace nsbuild::testing
