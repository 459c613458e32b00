#include "sandbox/child/init.h"

#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "sandbox/child/caps.h"
#include "sandbox/child/clone.h"
#include "sandbox/child/command.h"
#include "sandbox/child/fds.h"
#include "sandbox/child/mounts.h"
#include "sandbox/child/net.h"
#include "sandbox/child/plan.h"
#include "sandbox/child/report.h"
#include "sandbox/child/signals.h"
#include "sandbox/child/sys.h"
#include "sandbox/child/text.h"

namespace nsbuild::sandbox::child {
namespace {

#define STEP NSB_CHILD_STEP  // report.h: run a step, report its failure and exit

int CloseInherited(const Plan& p) {
  // The parent may run many sandboxes: their pipes must not reach this one.
  const int ours[] = {p.sync_read,   p.error_write, p.status_write, p.notify_sock, p.listen_sock,
                      p.landlock_fd, p.stdin_fd,    p.stdout_fd,    p.stderr_fd};
  return CloseAllBut(ours, sizeof ours / sizeof ours[0], p.keep_fds, p.keep_count);
}

int WaitForIdMaps(const Plan& p) {
  char go;
  long n;
  do {
    n = Sys(SYS_read, p.sync_read, &go, 1);
  } while (n == -EINTR);
  Sys(SYS_close, p.sync_read);
  if (n < 0) return static_cast<int>(n);
  return n == 1 ? 0 : -ECANCELED;  // EOF: the parent gave up (or died)
}

int BecomeInsideIds(const Plan& p) {
  if (p.drop_groups) {
    if (long rc = Sys(SYS_setgroups, 0, nullptr); rc < 0) return static_cast<int>(rc);
  }
  if (long rc = Sys(SYS_setresgid, p.gid, p.gid, p.gid); rc < 0) return static_cast<int>(rc);
  if (long rc = Sys(SYS_setresuid, p.uid, p.uid, p.uid); rc < 0) return static_cast<int>(rc);
  // Changing the effective ids clears the parent-death signal (prctl(2)):
  // without arming it again, a SIGKILLed nsbuild left its sandboxes running.
  return AsRc(Sys(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0));
}

int SetupNetwork(const Plan& p) { return p.loopback ? BringUpLoopback() : 0; }

int OpenListeners(const Plan& p) {
  if (p.listen_sock < 0) return 0;
  return OpenAndSendListeners(p.listen_addrs, p.listen_count, p.listen_sock);
}

int SetHostname(const Plan& p) {
  if (long rc = Sys(SYS_sethostname, p.hostname, Length(p.hostname)); rc < 0) {
    return static_cast<int>(rc);
  }
  return AsRc(Sys(SYS_setdomainname, p.domainname, Length(p.domainname)));
}

// PID 1's job once the command runs: reap everything, forward signals, and
// report the command's status. Exiting ends every other process here.
[[noreturn]] void InitLoop(const Plan& p, long command, KernelSigset waited) {
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

// The whole setup, one named step per line, in order.
[[noreturn]] void Pid1Main(const Plan& p) {
  FailureRecord rec = {};
  int devnull = -1;
  // If nsbuild dies, so does the sandbox. (PDEATHSIG follows the thread that
  // started us, so Sandbox::Start refuses any thread but the main one.)
  STEP(Step::kParentDeathSignal, AsRc(Sys(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0)));
  STEP(Step::kCloseFds, CloseInherited(p));
  STEP(Step::kWaitIdMap, WaitForIdMaps(p));
  STEP(Step::kSetIds, BecomeInsideIds(p));
  STEP(Step::kMountPrivate, MakeMountsPrivate(&rec));
  STEP(Step::kOpenSource, OpenMountSources(p, &devnull, &rec));
  STEP(Step::kNewRoot, MountNewRoot(&rec));
  STEP(Step::kPivotRoot, PivotIntoNewRoot(&rec));
  STEP(Step::kMount, ApplyMounts(p, devnull, &rec));
  STEP(Step::kDetachOldRoot, DetachOldRoot(p, &devnull, &rec));
  STEP(Step::kLoopback, SetupNetwork(p));
  STEP(Step::kListen, OpenListeners(p));
  STEP(Step::kHostname, SetHostname(p));

  // Block what init waits for before the command starts, so nothing is lost.
  KernelSigset waited = Bit(SIGCHLD);
  for (int sig : kForwarded) waited |= Bit(sig);
  STEP(Step::kBlockSignals,
       AsRc(Sys(SYS_rt_sigprocmask, SIG_BLOCK, &waited, nullptr, sizeof waited)));
  // Not dumpable before the command exists: nothing inside may ptrace PID 1
  // or read its memory, which is nsbuild's (and /proc/1/exe is nsbuild).
  STEP(Step::kNotDumpable, AsRc(Sys(SYS_prctl, PR_SET_DUMPABLE, 0, 0, 0, 0)));
  // Once, for both processes: the command inherits the empty bounding set
  // (caps.h), and neither execs before it has dropped the rest.
  STEP(Step::kBoundingSet, DropBoundingSet(p.cap_last));
  // The command starts vfork-style too: sharing memory, init suspended until
  // the command execs (or reports a failed step and exits).
  long command = CloneOnStack(CLONE_VM | CLONE_VFORK, SIGCHLD, nullptr, p.command_stack,
                              p.stack_size, CommandEntry, const_cast<Plan*>(&p));
  STEP(Step::kStartCommand, AsRc(command));

  // Init keeps nothing it does not need: no capabilities, and no fd but its
  // status pipe. Not the command's stdio targets, the passed fds (a
  // jobserver's pipe ends: held here, they would outlive every process that
  // uses them), the notification or Landlock fds, nor the stdio nsbuild
  // had. The error pipe goes last, so the parent sees EOF once exec
  // succeeded and a failure here still reaches it (and ends the sandbox).
  STEP(Step::kInitCapabilities, DropCapabilities());
  STEP(Step::kInitNoNewPrivs, AsRc(Sys(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)));
  STEP(Step::kCloseFds, CloseEveryFdBut(p.status_write, p.error_write));
  Sys(SYS_close, p.error_write);
  InitLoop(p, command, waited);
}

}  // namespace

int Pid1Entry(void* plan) { Pid1Main(*static_cast<const Plan*>(plan)); }

}  // namespace nsbuild::sandbox::child
