#include "sandbox/spec.h"

#include <cerrno>
#include <cstring>

namespace nsbuild::sandbox {

// Each names the call that failed, so a message is enough to look it up.
const char* StepName(Step step) {
  switch (step) {
    case Step::kNone:
      return "none";
    case Step::kParentDeathSignal:
      return "prctl(PR_SET_PDEATHSIG)";
    case Step::kCloseFds:
      return "close inherited fds";
    case Step::kWaitIdMap:
      return "wait for uid/gid map";
    case Step::kSetIds:
      return "become the inside uid/gid (setgroups, setresgid, setresuid)";
    case Step::kMountPrivate:
      return "make / private";
    case Step::kOpenSource:
      return "open bind source";
    case Step::kNewRoot:
      return "mount new root";
    case Step::kPivotRoot:
      return "pivot_root";
    case Step::kMount:
      return "mount";
    case Step::kDetachOldRoot:
      return "detach old root";
    case Step::kLoopback:
      return "bring up loopback";
    case Step::kListen:
      return "open forwarding listeners";
    case Step::kHostname:
      return "sethostname";
    case Step::kBlockSignals:
      return "block forwarded signals";
    case Step::kNotDumpable:
      return "prctl(PR_SET_DUMPABLE, 0)";
    case Step::kBoundingSet:
      return "empty the capability bounding set";
    case Step::kStartCommand:
      return "clone the command";
    case Step::kInitCapabilities:
      return "drop PID 1's capabilities";
    case Step::kInitNoNewPrivs:
      return "PID 1's no_new_privs";
    case Step::kResetSignals:
      return "reset signal dispositions and mask";
    case Step::kSetsid:
      return "setsid";
    case Step::kStdio:
      return "set up stdio";
    case Step::kRlimit:
      return "setrlimit";
    case Step::kPersonality:
      return "personality";
    case Step::kAffinity:
      return "sched_setaffinity";
    case Step::kChdir:
      return "chdir";
    case Step::kCloseForExec:
      return "close fds before exec";
    case Step::kCapabilities:
      return "drop capabilities";
    case Step::kNoNewPrivs:
      return "no_new_privs";
    case Step::kLandlock:
      return "landlock restrict_self";
    case Step::kWriteWatch:
      return "install the write watcher's seccomp filter";
    case Step::kSeccomp:
      return "install seccomp filter";
    case Step::kExec:
      return "execve";
  }
  return "unknown step";
}

std::string SetupFailure::Message() const {
  if (step == Step::kExec && errnum == ENOENT) return detail + ": command not found in the sandbox";
  if (step == Step::kExec && errnum == EACCES)
    return detail + ": permission denied (not executable?)";
  std::string m = std::string("sandbox setup failed at '") + StepName(step) + "'";
  if (!detail.empty()) m += " (" + detail + ")";
  if (errnum != 0) m += ": " + std::string(std::strerror(errnum));
  return m;
}

int ExitInfo::ExitStatus() const {
  if (setup_failure) {
    if (setup_failure->step == Step::kExec) {
      if (setup_failure->errnum == ENOENT) return 127;
      if (setup_failure->errnum == EACCES || setup_failure->errnum == ENOEXEC) return 126;
    }
    return 125;
  }
  if (signaled) return 128 + signal;
  return code;
}

}  // namespace nsbuild::sandbox
