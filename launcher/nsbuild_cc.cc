// nsbuild-cc's main (cc_launcher.h): run as cc, gcc, g++... it runs the real
// compiler of that name under one job slot of the sub-phase's lease.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "launcher/cc_launcher.h"

namespace {

using nsbuild::launcher::Slot;

volatile sig_atomic_t g_child = 0;

// make and ninja stop a job with SIGINT/SIGTERM/SIGHUP to it: the compiler
// gets them too, and the launcher stays to give its slot back.
void Forward(int sig) {
  if (g_child > 0) ::kill(g_child, sig);
}

[[noreturn]] void Die(const char* what, const char* name) {
  std::fprintf(stderr, "nsbuild-cc: %s %s: %s\n", what, name, std::strerror(errno));
  std::exit(127);
}

std::string SelfPath() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

// argv[0] becomes the real path: a driver that finds its installation from
// argv[0] (gcc, clang) must not find the launcher's directory instead.
[[noreturn]] void ExecReal(const std::string& real, char** argv) {
  argv[0] = const_cast<char*>(real.c_str());
  ::execv(real.c_str(), argv);
  Die("exec", real.c_str());
}

int RunChild(const std::string& real, char** argv) {
  struct sigaction sa = {};
  sa.sa_handler = Forward;
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) ::sigaction(sig, &sa, nullptr);
  pid_t pid = ::fork();
  if (pid < 0) Die("fork for", real.c_str());
  if (pid == 0) {
    ExecReal(real, argv);
    Die("exec", real.c_str());
  }
  g_child = pid;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  (void)argc;
  const char* slash = std::strrchr(argv[0], '/');
  std::string name = slash ? slash + 1 : argv[0];
  const char* path = std::getenv("PATH");
  std::string real = nsbuild::launcher::FindReal(name, path ? path : "", SelfPath());
  if (real.empty()) {
    std::fprintf(stderr, "nsbuild-cc: no %s on PATH beyond the launcher\n", name.c_str());
    return 127;
  }
  const char* lease = std::getenv("NSBUILD_JOBSERVER");
  const char* off = std::getenv("NSBUILD_CC_LAUNCHER");
  bool counted =
      lease && *lease && !(off && std::strcmp(off, "off") == 0) &&
      !std::getenv("CARGO_MAKEFLAGS") &&
      !nsbuild::launcher::UnderJobserverClient(::getpid(), nsbuild::launcher::ProcParentOf);
  if (!counted) ExecReal(real, argv);
  Slot slot;
  // No slot to be had (the fifo is gone): compile anyway, uncounted, rather
  // than fail a build over its pacing.
  if (slot.Acquire(lease) != 0)
    std::fprintf(stderr, "nsbuild-cc: no job slot from %s: %s\n", lease, std::strerror(errno));
  int status = RunChild(real, argv);
  slot.Release();
  if (WIFSIGNALED(status)) {
    ::signal(WTERMSIG(status), SIG_DFL);
    ::raise(WTERMSIG(status));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}
