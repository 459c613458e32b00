// How the child says which setup step failed: one fixed-size (step, errno,
// detail) record written to a pipe, read by the parent after PID 1 ends
// (sandbox.cc). Every step has its own label, so the parent's message names
// the exact call that failed; spec.h makes Step part of ExitInfo, and
// StepName (spec.cc) words it for people.
#pragma once

#include <stdint.h>

namespace nsbuild::sandbox::child {

// In the order the steps run. PID 1 first (child/init.cc), then the
// command's own steps (child/command.cc).
enum class Step : int32_t {
  kNone = 0,
  kParentDeathSignal,  // PID 1: prctl(PR_SET_PDEATHSIG)
  kCloseFds,           // PID 1: close what nsbuild had open
  kWaitIdMap,          // PID 1: wait for the parent to write uid_map/gid_map
  kSetIds,             // PID 1: setgroups, setresgid, setresuid, re-arm pdeathsig
  kMountPrivate,       // PID 1: make / rprivate
  kOpenSource,         // PID 1: open every bind source before the tree changes
  kNewRoot,            // PID 1: the tmpfs that becomes /
  kPivotRoot,          // PID 1: pivot_root into it
  kMount,              // PID 1: one mount of the plan
  kDetachOldRoot,      // PID 1: detach the host tree, root read-only
  kLoopback,           // PID 1: bring lo up
  kListen,             // PID 1: open the forwarding listeners
  kHostname,           // PID 1: sethostname, setdomainname
  kBlockSignals,       // PID 1: block what init waits for
  kNotDumpable,        // PID 1: prctl(PR_SET_DUMPABLE, 0)
  kBoundingSet,        // PID 1: empty the bounding set (the command inherits it)
  kStartCommand,       // PID 1: clone the command
  kInitCapabilities,   // PID 1: drop its own capabilities once the command runs
  kInitNoNewPrivs,     // PID 1: its own no_new_privs
  kResetSignals,       // command: default dispositions, empty mask
  kSetsid,             // command
  kStdio,              // command: dup3 onto 0/1/2
  kRlimit,             // command: prlimit
  kPersonality,        // command: personality(2)
  kAffinity,           // command: sched_setaffinity
  kChdir,              // command
  kCloseForExec,       // command: close all but the passed fds
  kCapabilities,       // command: drop every capability
  kNoNewPrivs,         // command
  kLandlock,           // command: landlock_restrict_self
  kWriteWatch,         // command: the write watcher's notify filter and its listener
  kSeccomp,            // command: the deny filter
  kExec,               // command: execve
};

// PID 1's exit code when a step failed (the shell's "could not start").
constexpr int kSetupFailed = 125;

// The record a failed step writes; read whole by the parent.
struct FailureRecord {
  int32_t step;
  int32_t errnum;
  char detail[480];
};

// Fills rec->detail with a, then b (either may be null), truncating; returns
// rc unchanged so a step can `return Fail(rec, rc, path)`.
int Fail(FailureRecord* rec, int rc, const char* a, const char* b = nullptr);

// Writes (step, -rc, rec->detail) to error_fd and ends the process with
// kSetupFailed.
[[noreturn]] void Die(int error_fd, FailureRecord* rec, Step step, int rc);

// A setup step in a child sequence: run `expr`; on failure (-errno) report
// (step, errno, detail) through p.error_write and exit. Expects `p` (the
// Plan) and `rec` (a FailureRecord) in scope, as both sequences have.
#define NSB_CHILD_STEP(step, expr)                                                     \
  do {                                                                                 \
    if (int step_rc_ = (expr); step_rc_ < 0) Die(p.error_write, &rec, step, step_rc_); \
  } while (0)

// exit_group(2) without glibc's atexit handlers (they are nsbuild's).
[[noreturn]] void Exit(int code);

}  // namespace nsbuild::sandbox::child
