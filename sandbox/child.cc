#include "sandbox/child.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <initializer_list>

#include "sandbox/caps.h"
#include "sandbox/fds.h"
#include "sandbox/mounts.h"
#include "sandbox/net.h"
#include "sandbox/raw_syscall.h"

namespace nsbuild::sandbox {
namespace {

constexpr int kSetupFailed = 125;

// Signals PID 1 passes on to the command; everything else it keeps default.
constexpr int kForwarded[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT};

// The kernel's sigset for rt_sig* calls: one bit per signal.
using KernelSigset = uint64_t;
constexpr KernelSigset Bit(int sig) { return KernelSigset{1} << (sig - 1); }

[[noreturn]] void Exit(int code) {
  Sys(SYS_exit_group, code);
  __builtin_unreachable();
}

[[noreturn]] void Die(const Prepared& p, FailureRecord* rec, Step step, int rc) {
  rec->step = static_cast<int32_t>(step);
  rec->errnum = -rc;
  // One write of a fixed-size record: atomic on a pipe, no partial reads.
  Sys(SYS_write, p.error_write, rec, sizeof *rec);
  Exit(kSetupFailed);
}

// A step: run it; on failure (-errno) report (step, errno, detail) and exit.
#define STEP(step, expr)                                 \
  do {                                                   \
    if (int step_rc_ = (expr); step_rc_ < 0) Die(p, &rec, step, step_rc_); \
  } while (0)

int AsRc(long rc) { return rc < 0 ? static_cast<int>(rc) : 0; }

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
  return CloseAllBut(p, {p.sync_read, p.error_write, p.status_write, p.notify_sock, p.stdin_fd,
                         p.stdout_fd, p.stderr_fd});
}

int WaitForIdMaps(const Prepared& p) {
  char go;
  long n;
  do {
    n = Sys(SYS_read, p.sync_read, &go, 1);
  } while (n == -EINTR);
  Sys(SYS_close, p.sync_read);
  if (n < 0) return static_cast<int>(n);
  return n == 1 ? 0 : -ECANCELED;  // EOF: the parent gave up (or died)
}

int BecomeInsideIds(const Prepared& p) {
  if (p.drop_groups) {
    if (long rc = Sys(SYS_setgroups, 0, nullptr); rc < 0) return static_cast<int>(rc);
  }
  if (long rc = Sys(SYS_setresgid, p.gid, p.gid, p.gid); rc < 0) return static_cast<int>(rc);
  if (long rc = Sys(SYS_setresuid, p.uid, p.uid, p.uid); rc < 0) return static_cast<int>(rc);
  // Changing the effective ids clears the parent-death signal (prctl(2)):
  // without arming it again, a SIGKILLed nsbuild left its sandboxes running.
  return AsRc(Sys(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0));
}

int SetupNetwork(const Prepared& p) {
  return p.net == NetMode::kLoopback ? BringUpLoopback() : 0;
}

int SetHostname(const Prepared& p) {
  if (long rc = Sys(SYS_sethostname, p.hostname, strlen(p.hostname)); rc < 0) {
    return static_cast<int>(rc);
  }
  return AsRc(Sys(SYS_setdomainname, p.domainname, strlen(p.domainname)));
}

int Stdio(const Prepared& p) {
  const int targets[3] = {p.stdin_fd, p.stdout_fd, p.stderr_fd};
  for (int i = 0; i < 3; ++i) {
    if (targets[i] < 0 || targets[i] == i) continue;
    if (long rc = Sys(SYS_dup3, targets[i], i, 0); rc < 0) return static_cast<int>(rc);
  }
  return 0;
}

int ApplyRlimits(const Prepared& p) {
  for (const Rlimit& r : p.rlimits) {
    struct rlimit rl = {r.soft, r.hard};
    if (long rc = Sys(SYS_prlimit64, 0, r.resource, &rl, nullptr); rc < 0) {
      return static_cast<int>(rc);
    }
  }
  return 0;
}

// What reproducibility checks vary: the execution domain and the CPU count.
int ExecutionEnvironment(const Prepared& p) {
  if (p.personality != 0) {
    if (long rc = Sys(SYS_personality, p.personality); rc < 0) return static_cast<int>(rc);
  }
  if (p.set_affinity) return AsRc(Sys(SYS_sched_setaffinity, 0, sizeof p.affinity, &p.affinity));
  return 0;
}

int CloseForExec(const Prepared& p) {
  // error_write is O_CLOEXEC: it stays until a successful exec closes it;
  // notify_sock is closed once the listener is sent.
  if (int rc = CloseAllBut(p, {p.error_write, p.notify_sock}); rc < 0) return rc;
  for (int fd : p.keep_fds) {
    if (int rc = KeepAcrossExec(fd); rc < 0) return rc;
  }
  return 0;
}

// Sends fd over a unix socket (SCM_RIGHTS), without allocating.
int SendFd(int sock, int fd) {
  char byte = 'n';
  struct iovec iov = {&byte, 1};
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof fd);
  return AsRc(Sys(SYS_sendmsg, sock, &msg, 0));
}

// The watch filter first: its listener goes to nsbuild, and this process
// keeps no copy (a process holding it could answer its own notifications).
int LoadWriteWatch(const Prepared& p) {
  if (p.watch_filter.empty()) return 0;
  struct sock_fprog prog = {static_cast<unsigned short>(p.watch_filter.size()),
                            const_cast<sock_filter*>(p.watch_filter.data())};
  long fd = Sys(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
  if (fd < 0) return static_cast<int>(fd);
  int rc = SendFd(p.notify_sock, static_cast<int>(fd));
  Sys(SYS_close, fd);
  Sys(SYS_close, p.notify_sock);
  return rc;
}

int LoadSeccomp(const Prepared& p) {
  if (p.seccomp.empty()) return 0;
  struct sock_fprog prog = {static_cast<unsigned short>(p.seccomp.size()),
                            const_cast<sock_filter*>(p.seccomp.data())};
  return AsRc(Sys(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog));
}

// Default dispositions and an empty mask, as a freshly started program expects.
int ResetSignals() {
  struct {
    void* handler;
    unsigned long flags;
    void* restorer;
    KernelSigset mask;
  } dfl = {};  // SIG_DFL
  for (int sig : kForwarded) Sys(SYS_rt_sigaction, sig, &dfl, nullptr, sizeof(KernelSigset));
  Sys(SYS_rt_sigaction, SIGCHLD, &dfl, nullptr, sizeof(KernelSigset));
  Sys(SYS_rt_sigaction, SIGPIPE, &dfl, nullptr, sizeof(KernelSigset));
  KernelSigset none = 0;
  return AsRc(Sys(SYS_rt_sigprocmask, SIG_SETMASK, &none, nullptr, sizeof none));
}

const char* FindEnv(const Prepared& p, const char* name, size_t len) {
  for (char* const* e = p.envp.data(); *e; ++e) {
    if (strncmp(*e, name, len) == 0 && (*e)[len] == '=') return *e + len + 1;
  }
  return nullptr;
}

// execvp without errno and without allocation: argv[0] without a '/' is
// searched in the sandbox's own PATH. Returns -errno (EACCES wins over
// ENOENT, as in the shell).
int Exec(const Prepared& p) {
  const char* file = p.argv[0];
  if (strchr(file, '/')) return AsRc(Sys(SYS_execve, file, p.argv.data(), p.envp.data()));
  const char* path = FindEnv(p, "PATH", 4);
  if (!path) path = "/usr/local/bin:/usr/bin:/bin";
  size_t flen = strlen(file);
  bool denied = false;
  for (const char* dir = path;; ++dir) {
    const char* end = strchrnul(dir, ':');
    size_t dlen = static_cast<size_t>(end - dir);
    char buf[4096];
    if (dlen + flen + 3 <= sizeof buf) {
      size_t n = 0;
      if (dlen == 0) buf[n++] = '.';  // an empty entry is the working directory
      memcpy(buf + n, dir, dlen);
      n += dlen;
      buf[n++] = '/';
      memcpy(buf + n, file, flen + 1);
      long rc = Sys(SYS_execve, buf, p.argv.data(), p.envp.data());
      if (rc == -EACCES) {
        denied = true;
      } else if (rc != -ENOENT && rc != -ENOTDIR && rc != -ESTALE) {
        return static_cast<int>(rc);  // found but failed: report that
      }
    }
    if (!*end) break;
    dir = end;
  }
  return denied ? -EACCES : -ENOENT;
}

// The command's side: the last steps, in the order that keeps each later
// step possible (caps before no_new_privs before seccomp).
[[noreturn]] void CommandMain(Prepared& p) {
  FailureRecord rec = {};
  STEP(Step::kFork, ResetSignals());
  STEP(Step::kSetsid, AsRc(Sys(SYS_setsid)));
  STEP(Step::kStdio, Stdio(p));
  STEP(Step::kRlimit, ApplyRlimits(p));
  STEP(Step::kRlimit, ExecutionEnvironment(p));
  Sys(SYS_umask, p.umask);
  STEP(Step::kChdir, AsRc(Sys(SYS_chdir, p.cwd)));
  STEP(Step::kCloseFds, CloseForExec(p));
  STEP(Step::kCapabilities, DropAllCapabilities(p.cap_last));
  STEP(Step::kNoNewPrivs, AsRc(Sys(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)));
  STEP(Step::kSeccomp, LoadWriteWatch(p));
  STEP(Step::kSeccomp, LoadSeccomp(p));
  int rc = Exec(p);
  size_t n = 0;
  for (const char* s = p.argv[0]; *s && n + 1 < sizeof rec.detail; ++s) rec.detail[n++] = *s;
  Die(p, &rec, Step::kExec, rc);
}

int CommandEntry(void* arg) { CommandMain(*static_cast<Prepared*>(arg)); }

// PID 1's job once the command runs: reap everything, forward signals, and
// report the command's status. Exiting ends every other process here.
[[noreturn]] void InitLoop(const Prepared& p, pid_t command, KernelSigset waited) {
  for (;;) {
    siginfo_t si;
    long sig = Sys(SYS_rt_sigtimedwait, &waited, &si, nullptr, sizeof waited);
    if (sig < 0) continue;
    if (sig != SIGCHLD) {
      Sys(SYS_kill, command, sig);
      continue;
    }
    int status;
    long pid;
    while ((pid = Sys(SYS_wait4, -1, &status, WNOHANG, nullptr)) > 0) {
      if (pid == command) {
        Sys(SYS_write, p.status_write, &status, sizeof status);
        Exit(0);
      }
    }
  }
}

}  // namespace

[[noreturn]] void ChildMain(Prepared& p) {
  FailureRecord rec = {};
  // If nsbuild dies, so does the sandbox. (PDEATHSIG follows the thread that
  // started us, so sandboxes are only started from nsbuild's main thread.)
  STEP(Step::kFork, AsRc(Sys(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0)));
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

  // Block what init waits for before the command starts, so nothing is lost.
  KernelSigset waited = Bit(SIGCHLD);
  for (int sig : kForwarded) waited |= Bit(sig);
  STEP(Step::kFork, AsRc(Sys(SYS_rt_sigprocmask, SIG_BLOCK, &waited, nullptr, sizeof waited)));
  // Not dumpable before the command exists: nothing inside may ptrace PID 1
  // or read its memory, which is nsbuild's (and /proc/1/exe is nsbuild).
  STEP(Step::kFork, AsRc(Sys(SYS_prctl, PR_SET_DUMPABLE, 0, 0, 0, 0)));
  // The command starts vfork-style too: sharing memory, init suspended until
  // the command execs (or reports a failed step and exits).
  long command = clone(CommandEntry, p.command_stack.get() + Prepared::kStackSize,
                       CLONE_VM | CLONE_VFORK | SIGCHLD, &p);
  STEP(Step::kFork, command < 0 ? -EAGAIN : 0);

  // Init keeps nothing it does not need: no error pipe (so the parent sees
  // EOF once exec succeeded) and no capabilities.
  Sys(SYS_close, p.error_write);
  if (p.notify_sock >= 0) Sys(SYS_close, p.notify_sock);
  DropAllCapabilities(p.cap_last);
  Sys(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  InitLoop(p, static_cast<pid_t>(command), waited);
}

int ChildEntry(void* arg) { ChildMain(*static_cast<Prepared*>(arg)); }

}  // namespace nsbuild::sandbox
