#include "launcher/cc_launcher.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

namespace nsbuild::launcher {
namespace {

std::string Resolve(const std::string& p) {
  char buf[PATH_MAX];
  return ::realpath(p.c_str(), buf) ? std::string(buf) : std::string();
}

bool Executable(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(p.c_str(), X_OK) == 0;
}

}  // namespace

const std::vector<std::string>& CompilerNames() {
  static const std::vector<std::string> kNames = {"cc",
                                                  "gcc",
                                                  "g++",
                                                  "c++",
                                                  "clang",
                                                  "clang++",
                                                  "x86_64-linux-gnu-gcc",
                                                  "x86_64-linux-gnu-g++",
                                                  "x86_64-linux-gnu-gcc-12",
                                                  "x86_64-linux-gnu-g++-12",
                                                  "gcc-12",
                                                  "g++-12"};
  return kNames;
}

std::string FindReal(const std::string& name, const std::string& path, const std::string& self) {
  if (name.empty() || name.find('/') != std::string::npos) return "";
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    std::string dir = path.substr(start, end - start);
    start = end + 1;
    if (dir.empty() || dir[0] != '/') continue;  // "" and relative entries: not ours to guess
    std::string candidate = dir + "/" + name;
    if (!Executable(candidate)) continue;
    if (!self.empty() && Resolve(candidate) == self) continue;
    return candidate;
  }
  return "";
}

bool IsTransparent(const std::string& comm) {
  static const char* const kNames[] = {"sh",  "bash", "dash", "ccache",  "distcc",
                                       "env", "nice", "time", "libtool", "nsbuild-cc"};
  for (const char* n : kNames) {
    if (comm == n) return true;
  }
  return false;
}

bool IsJobserverClient(const std::string& comm) {
  return comm == "make" || comm == "gmake" || comm == "cargo";
}

bool UnderJobserverClient(pid_t pid, const ParentOf& parent_of) {
  for (int step = 0; step < 16 && pid > 1; ++step) {
    pid_t ppid = 0;
    std::string comm;
    if (!parent_of(pid, &ppid, &comm)) return false;
    if (step > 0) {  // the first is the launcher itself
      if (IsJobserverClient(comm)) return true;
      if (!IsTransparent(comm)) return false;
    }
    pid = ppid;
  }
  return false;
}

bool ProcParentOf(pid_t pid, pid_t* ppid, std::string* comm) {
  std::string name = "/proc/" + std::to_string(pid) + "/stat";
  int fd = ::open(name.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[512];
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return false;
  std::string text(buf, static_cast<size_t>(n));
  size_t open = text.find('('), close = text.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close + 4 > text.size())
    return false;
  *comm = text.substr(open + 1, close - open - 1);
  // ") S PPID": the state is one character.
  *ppid = static_cast<pid_t>(std::atol(text.c_str() + close + 4));
  return true;
}

int Slot::Acquire(const std::string& path, int poll_ms) {
  // O_RDWR: opening a fifo so never blocks, and O_NONBLOCK reads never hang.
  fd_ = ::open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd_ < 0) return -1;
  struct stat st;
  if (::fstat(fd_, &st) != 0 || !S_ISFIFO(st.st_mode)) {
    Release();
    errno = EINVAL;
    return -1;
  }
  for (;;) {
    if (::flock(fd_, LOCK_EX | LOCK_NB) == 0) {
      implicit_ = true;
      return 0;
    }
    ssize_t n = ::read(fd_, &token_, 1);
    if (n == 1) return 0;
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
      Release();
      return -1;
    }
    pollfd p = {fd_, POLLIN, 0};
    ::poll(&p, 1, poll_ms);
  }
}

void Slot::Release() {
  if (fd_ < 0) return;
  // The token goes back before the lock is let go: the pool never looks
  // short by one while this process still exists.
  if (!implicit_) {
    while (::write(fd_, &token_, 1) < 0 && errno == EINTR) {
    }
  }
  ::close(fd_);  // releases the flock
  fd_ = -1;
  implicit_ = false;
}

}  // namespace nsbuild::launcher
