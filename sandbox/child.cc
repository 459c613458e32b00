#include "sandbox/child.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <initializer_list>

#include "sandbox/caps.h"
#include "sandbox/fds.h"
#include "sandbox/mounts.h"
#include "sandbox/net.h"

extern char** environ;

namespace nsbuild::sandbox {
namespace {

constexpr int kSetupFailed = 125;

// Signals PID 1 passes on to the command; everything else it keeps default.
constexpr int kForwarded[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT};

[[noreturn]] void Die(const Prepared& p, FailureRecord* rec, Step step) {
  rec->step = static_cast<int32_t>(step);
  rec->errnum = errno;
  // One write of a fixed-size record: atomic on a pipe, no partial reads.
  ssize_t ignored = write(p.error_write, rec, sizeof *rec);
  (void)ignored;
  _exit(kSetupFailed);
}

// A step: run it, and on failure report (step, errno, detail) and exit.
#define STEP(step, expr)                      \
  do {                                        \
    if ((expr) != 0) Die(p, &rec, step);      \
  } while (0)

void SortFds(int* fds, int n) {  // insertion sort: tiny array, no allocation
  for (int i = 1; i < n; ++i) {
    for (int j = i; j > 0 && fds[j - 1] > fds[j]; --j) {
      int t = fds[j];
      fds[j] = fds[j - 1];
      fds[j - 1] = t;
    }
  }
}

// Closes every fd above 2 but `extra` and the passed fds.
int CloseAllBut(const Prepared& p, std::initializer_list<int> extra) {
  constexpr int kMax = 64;
  int keep[kMax];
  int n = 0;
  for (int fd : extra) {
    if (fd >= 3 && n < kMax) keep[n++] = fd;
  }
  for (int fd : p.keep_fds) {
    if (n < kMax) keep[n++] = fd;
  }
  SortFds(keep, n);
  return CloseFdsExcept(keep, n);
}

int CloseInherited(const Prepared& p) {
  // The parent may run many sandboxes: their pipes must not reach this one.
  return CloseAllBut(p, {p.sync_read, p.error_write, p.status_write, p.stdin_fd, p.stdout_fd,
                         p.stderr_fd});
}

int WaitForIdMaps(const Prepared& p) {
  char go;
  ssize_t n;
  do {
    n = read(p.sync_read, &go, 1);
  } while (n < 0 && errno == EINTR);
  close(p.sync_read);
  if (n != 1) {
    errno = n == 0 ? ECANCELED : errno;  // the parent gave up (or died)
    return -1;
  }
  return 0;
}

int BecomeInsideIds(const Prepared& p) {
  if (p.drop_groups && setgroups(0, nullptr) != 0) return -1;
  if (setresgid(p.gid, p.gid, p.gid) != 0) return -1;
  return setresuid(p.uid, p.uid, p.uid);
}

int SetupNetwork(const Prepared& p) {
  return p.net == NetMode::kLoopback ? BringUpLoopback() : 0;
}

int SetHostname(const Prepared& p) {
  if (sethostname(p.hostname, strlen(p.hostname)) != 0) return -1;
  return setdomainname("(none)", 6);
}

int Stdio(const Prepared& p) {
  const int targets[3] = {p.stdin_fd, p.stdout_fd, p.stderr_fd};
  for (int i = 0; i < 3; ++i) {
    if (targets[i] >= 0 && targets[i] != i && dup2(targets[i], i) < 0) return -1;
  }
  return 0;
}

int ApplyRlimits(const Prepared& p) {
  for (const Rlimit& r : p.rlimits) {
    struct rlimit rl = {r.soft, r.hard};
    if (setrlimit(r.resource, &rl) != 0) return -1;
  }
  return 0;
}

int CloseForExec(const Prepared& p) {
  // error_write is O_CLOEXEC: it stays until a successful exec closes it.
  if (CloseAllBut(p, {p.error_write}) != 0) return -1;
  for (int fd : p.keep_fds) {
    if (KeepAcrossExec(fd) != 0) return -1;
  }
  return 0;
}

int LoadSeccomp(const Prepared& p) {
  if (p.seccomp.empty()) return 0;
  struct sock_fprog prog = {static_cast<unsigned short>(p.seccomp.size()),
                            const_cast<sock_filter*>(p.seccomp.data())};
  return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
}

int ResetSignals() {
  sigset_t none;
  sigemptyset(&none);
  for (int sig : kForwarded) signal(sig, SIG_DFL);
  signal(SIGCHLD, SIG_DFL);
  signal(SIGPIPE, SIG_DFL);
  return sigprocmask(SIG_SETMASK, &none, nullptr);
}

// The command's side of the fork: the last steps, in the order that keeps
// each later step possible (caps before no_new_privs before seccomp).
[[noreturn]] void CommandMain(Prepared& p, int cap_last) {
  FailureRecord rec = {};
  STEP(Step::kFork, ResetSignals());
  STEP(Step::kSetsid, setsid() < 0 ? -1 : 0);
  STEP(Step::kStdio, Stdio(p));
  STEP(Step::kRlimit, ApplyRlimits(p));
  umask(p.umask);
  STEP(Step::kChdir, chdir(p.cwd));
  STEP(Step::kCloseFds, CloseForExec(p));
  STEP(Step::kCapabilities, DropAllCapabilities(cap_last));
  STEP(Step::kNoNewPrivs, prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
  STEP(Step::kSeccomp, LoadSeccomp(p));
  environ = p.envp.data();  // execvp searches the sandbox's PATH
  execvp(p.argv[0], p.argv.data());
  size_t n = 0;
  for (const char* s = p.argv[0]; *s && n + 1 < sizeof rec.detail; ++s) rec.detail[n++] = *s;
  Die(p, &rec, Step::kExec);
}

struct CommandArgs {
  Prepared* p;
  int cap_last;
};

int CommandEntry(void* arg) {
  auto* a = static_cast<CommandArgs*>(arg);
  CommandMain(*a->p, a->cap_last);
}

void ReportStatus(const Prepared& p, int wait_status) {
  ssize_t ignored = write(p.status_write, &wait_status, sizeof wait_status);
  (void)ignored;
}

// PID 1's job once the command runs: reap everything, forward signals, and
// report the command's status. Exiting ends every other process here.
[[noreturn]] void InitLoop(const Prepared& p, pid_t command, const sigset_t& waited) {
  for (;;) {
    siginfo_t si;
    int sig = sigwaitinfo(&waited, &si);
    if (sig < 0) continue;
    if (sig != SIGCHLD) {
      kill(command, sig);
      continue;
    }
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
      if (pid == command) {
        ReportStatus(p, status);
        _exit(0);
      }
    }
  }
}

}  // namespace

[[noreturn]] void ChildMain(Prepared& p, int cap_last) {
  FailureRecord rec = {};
  // If nsbuild dies, so does the sandbox. (PDEATHSIG follows the thread that
  // started us, so sandboxes are only started from nsbuild's main thread.)
  STEP(Step::kFork, prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0));
  STEP(Step::kCloseFds, CloseInherited(p));
  STEP(Step::kWaitIdMap, WaitForIdMaps(p));
  STEP(Step::kWaitIdMap, BecomeInsideIds(p));
  STEP(Step::kMountPrivate, MakeMountsPrivate(&rec));
  STEP(Step::kOpenSource, OpenMountSources(p, &rec));
  STEP(Step::kNewRoot, EnterNewRoot(&rec));
  STEP(Step::kMount, ApplyMounts(p, &rec));
  STEP(Step::kDetachOldRoot, DetachOldRoot(p, &rec));
  STEP(Step::kLoopback, SetupNetwork(p));
  STEP(Step::kHostname, SetHostname(p));

  // Block what init waits for before forking, so nothing is lost between.
  sigset_t waited;
  sigemptyset(&waited);
  sigaddset(&waited, SIGCHLD);
  for (int sig : kForwarded) sigaddset(&waited, sig);
  STEP(Step::kFork, sigprocmask(SIG_BLOCK, &waited, nullptr));
  // The command starts vfork-style: sharing init's memory and suspending init
  // until it execs. A copying fork costs milliseconds of page-table work on
  // small VMs; the child only runs our setup code and then execs anyway.
  CommandArgs args{&p, cap_last};
  pid_t command = clone(CommandEntry, p.command_stack.get() + Prepared::kCommandStackSize,
                        CLONE_VM | CLONE_VFORK | SIGCHLD, &args);
  STEP(Step::kFork, command < 0 ? -1 : 0);

  // Init keeps nothing it does not need: no error pipe (so the parent sees
  // EOF once exec succeeded), no capabilities, not dumpable (so its
  // /proc/1/exe — nsbuild's own binary — is out of the command's reach).
  close(p.error_write);
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  DropAllCapabilities(cap_last);
  prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  InitLoop(p, command, waited);
}

}  // namespace nsbuild::sandbox
