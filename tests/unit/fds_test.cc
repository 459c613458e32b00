// The fd-closing routine PID 1 and the command run between clone and exec,
// on its own: keep a set, open others around and between them, and look at
// what is left. It closes in-process, so each case runs in a forked child
// that reports its fd table over a pipe.
#include "sandbox/child/fds.h"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <set>
#include <string>

namespace nsbuild::sandbox::child {
namespace {

std::set<int> OpenFds() {
  std::set<int> fds;
  DIR* d = opendir("/proc/self/fd");
  int self = d ? dirfd(d) : -1;
  while (dirent* e = d ? readdir(d) : nullptr) {
    if (e->d_name[0] == '.') continue;
    int fd = atoi(e->d_name);
    if (fd != self) fds.insert(fd);
  }
  if (d) closedir(d);
  return fds;
}

// In a child: occupy fds 3..top (dup2 of /dev/null onto each), run
// CloseFdsExcept(keep), report the remaining table. Returns that table.
std::set<int> CloseInChild(std::vector<int> keep, int top) {
  int pipefd[2];
  EXPECT_EQ(pipe2(pipefd, O_CLOEXEC), 0);
  pid_t pid = fork();
  if (pid == 0) {
    int report = fcntl(pipefd[1], F_DUPFD_CLOEXEC, top + 100);
    close(pipefd[0]);
    close(pipefd[1]);
    int null = open("/dev/null", O_RDONLY);
    for (int fd = 3; fd <= top; ++fd) {
      if (fd != null) dup2(null, fd);
    }
    // Open fds above the highest kept one too: the last range must reach them.
    for (int fd = report + 1; fd <= report + 3; ++fd) dup2(null, fd);
    // keep the report fd too, as the sandbox keeps its status pipe
    keep.push_back(report);
    std::sort(keep.begin(), keep.end());
    int rc = CloseFdsExcept(keep.data(), static_cast<int>(keep.size()));
    std::string out = std::to_string(rc);
    for (int fd : OpenFds()) {
      if (fd != report) out += " " + std::to_string(fd);
    }
    (void)!write(report, out.data(), out.size());
    _exit(0);
  }
  close(pipefd[1]);
  char buf[4096];
  std::string got;
  ssize_t n;
  while ((n = read(pipefd[0], buf, sizeof buf)) > 0) got.append(buf, static_cast<size_t>(n));
  close(pipefd[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  std::set<int> left;
  size_t pos = got.find(' ');
  EXPECT_EQ(got.substr(0, pos), "0") << "CloseFdsExcept failed: " << got;
  while (pos != std::string::npos) {
    size_t next = got.find(' ', pos + 1);
    left.insert(std::stoi(got.substr(pos + 1, next - pos - 1)));
    pos = next;
  }
  return left;
}

TEST(CloseFdsExcept, ClosesEverythingAboveTwoWithNothingKept) {
  EXPECT_EQ(CloseInChild({}, 40), (std::set<int>{0, 1, 2}));
}

TEST(CloseFdsExcept, KeepsExactlyTheGivenSet) {
  // Neighbours of kept fds (k-1, k+1), runs of kept fds, and the ends.
  EXPECT_EQ(CloseInChild({3, 4, 7, 9, 10, 11, 30, 63}, 64),
            (std::set<int>{0, 1, 2, 3, 4, 7, 9, 10, 11, 30, 63}));
  EXPECT_EQ(CloseInChild({5}, 64), (std::set<int>{0, 1, 2, 5}));
  EXPECT_EQ(CloseInChild({64}, 64), (std::set<int>{0, 1, 2, 64}));
}

TEST(CloseFdsExcept, KeptFdsBelowThreeAndDuplicatesAreHarmless) {
  EXPECT_EQ(CloseInChild({0, 2, 8, 8}, 20), (std::set<int>{0, 1, 2, 8}));
}

TEST(CloseFdsExcept, HighFdsAreClosedToo) {
  EXPECT_EQ(CloseInChild({6}, 1000), (std::set<int>{0, 1, 2, 6}));
}

TEST(KeepAcrossExec, ClearsCloexecOnlyOnTheGivenFd) {
  int a = open("/dev/null", O_RDONLY | O_CLOEXEC);
  int b = open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  EXPECT_EQ(KeepAcrossExec(a), 0);
  EXPECT_EQ(fcntl(a, F_GETFD) & FD_CLOEXEC, 0);
  EXPECT_EQ(fcntl(b, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
  EXPECT_LT(KeepAcrossExec(9999), 0);
  close(a);
  close(b);
}

}  // namespace
}  // namespace nsbuild::sandbox::child
