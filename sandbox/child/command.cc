#include "sandbox/child/command.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "sandbox/child/caps.h"
#include "sandbox/child/fds.h"
#include "sandbox/child/plan.h"
#include "sandbox/child/report.h"
#include "sandbox/child/signals.h"
#include "sandbox/child/sys.h"
#include "sandbox/child/text.h"

#ifndef SYS_landlock_restrict_self
#define SYS_landlock_restrict_self 446
#endif

namespace nsbuild::sandbox::child {
namespace {

#define STEP NSB_CHILD_STEP  // report.h: run a step, report its failure and exit

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

int Stdio(const Plan& p) {
  const int targets[3] = {p.stdin_fd, p.stdout_fd, p.stderr_fd};
  for (int i = 0; i < 3; ++i) {
    if (targets[i] < 0 || targets[i] == i) continue;
    if (long rc = Sys(SYS_dup3, targets[i], i, 0); rc < 0) return static_cast<int>(rc);
  }
  return 0;
}

int ApplyRlimits(const Plan& p) {
  for (int i = 0; i < p.rlimit_count; ++i) {
    struct rlimit rl = {p.rlimits[i].soft, p.rlimits[i].hard};
    if (long rc = Sys(SYS_prlimit64, 0, p.rlimits[i].resource, &rl, nullptr); rc < 0) {
      return static_cast<int>(rc);
    }
  }
  return 0;
}

// What reproducibility checks vary: the execution domain and the CPU count.
int SetPersonality(const Plan& p) {
  return p.personality != 0 ? AsRc(Sys(SYS_personality, p.personality)) : 0;
}

int SetAffinity(const Plan& p) {
  return p.set_affinity ? AsRc(Sys(SYS_sched_setaffinity, 0, sizeof p.affinity, &p.affinity)) : 0;
}

int CloseForExec(const Plan& p) {
  // error_write is O_CLOEXEC: it stays until a successful exec closes it;
  // notify_sock is closed once the listener is sent.
  // landlock_fd stays until the command has restricted itself with it.
  const int ours[] = {p.error_write, p.notify_sock, p.landlock_fd};
  if (int rc = CloseAllBut(ours, 3, p.keep_fds, p.keep_count); rc < 0) return rc;
  for (int i = 0; i < p.keep_count; ++i) {
    if (int rc = KeepAcrossExec(p.keep_fds[i]); rc < 0) return rc;
  }
  return 0;
}

// The watch filter first: its listener goes to nsbuild, and this process
// keeps no copy (a process holding it could answer its own notifications).
int LoadWriteWatch(const Plan& p) {
  if (p.watch_filter.len == 0) return 0;
  long fd =
      Sys(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &p.watch_filter);
  if (fd < 0) return static_cast<int>(fd);
  int listener = static_cast<int>(fd);
  int rc = SendFds(p.notify_sock, &listener, 1);
  Sys(SYS_close, fd);
  Sys(SYS_close, p.notify_sock);
  return rc;
}

// Landlock (network "distcc"): the parent built the ruleset; enforcing it on
// ourselves (and what we exec) needs no_new_privs, set just before.
int ApplyLandlock(const Plan& p) {
  if (p.landlock_fd < 0) return 0;
  long rc = Sys(SYS_landlock_restrict_self, p.landlock_fd, 0);
  Sys(SYS_close, p.landlock_fd);
  return AsRc(rc);
}

int LoadSeccomp(const Plan& p) {
  if (p.seccomp.len == 0) return 0;
  return AsRc(Sys(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &p.seccomp));
}

const char* FindEnv(const Plan& p, const char* name, size_t len) {
  for (char* const* e = p.envp; *e; ++e) {
    if (const char* v = ValueOf(*e, name, len)) return v;
  }
  return nullptr;
}

// execvp without errno and without allocation: argv[0] without a '/' is
// searched in the sandbox's own PATH. Returns -errno (EACCES wins over
// ENOENT, as in the shell).
int Exec(const Plan& p) {
  const char* file = p.argv[0];
  if (Contains(file, '/')) return AsRc(Sys(SYS_execve, file, p.argv, p.envp));
  const char* path = FindEnv(p, "PATH", 4);
  if (!path) path = "/usr/local/bin:/usr/bin:/bin";
  size_t flen = Length(file);
  bool denied = false;
  for (const char* dir = path;; ++dir) {
    const char* end = FindOrEnd(dir, ':');
    size_t dlen = static_cast<size_t>(end - dir);
    char buf[4096];
    if (dlen + flen + 3 <= sizeof buf) {
      size_t n = 0;
      if (dlen == 0) buf[n++] = '.';  // an empty entry is the working directory
      CopyBytes(buf + n, dir, dlen);
      n += dlen;
      buf[n++] = '/';
      CopyBytes(buf + n, file, flen + 1);
      long rc = Sys(SYS_execve, buf, p.argv, p.envp);
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

[[noreturn]] void CommandMain(const Plan& p) {
  FailureRecord rec = {};
  STEP(Step::kResetSignals, ResetSignals());
  STEP(Step::kSetsid, AsRc(Sys(SYS_setsid)));
  STEP(Step::kStdio, Stdio(p));
  STEP(Step::kRlimit, ApplyRlimits(p));
  STEP(Step::kPersonality, SetPersonality(p));
  STEP(Step::kAffinity, SetAffinity(p));
  Sys(SYS_umask, p.umask);  // cannot fail
  STEP(Step::kChdir, AsRc(Sys(SYS_chdir, p.cwd)));
  STEP(Step::kCloseForExec, CloseForExec(p));
  STEP(Step::kCapabilities, DropCapabilities());  // the bounding set is already empty
  STEP(Step::kNoNewPrivs, AsRc(Sys(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)));
  STEP(Step::kLandlock, ApplyLandlock(p));
  STEP(Step::kWriteWatch, LoadWriteWatch(p));
  STEP(Step::kSeccomp, LoadSeccomp(p));
  int rc = Exec(p);
  Fail(&rec, rc, p.argv[0]);
  Die(p.error_write, &rec, Step::kExec, rc);
}

}  // namespace

int CommandEntry(void* plan) { CommandMain(*static_cast<const Plan*>(plan)); }

}  // namespace nsbuild::sandbox::child
