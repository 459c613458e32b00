// Running one command in a sandbox: the parent-side owner of the sandbox's
// PID 1. Start() returns as soon as the child is released into its setup;
// Wait() (or pidfd readiness in a poll loop) tells when it is over. The
// destructor (and a move assignment, for the sandbox it replaces) kills and
// reaps, so no sandbox outlives its owner. Start only from the main thread.
#pragma once

#include <signal.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <memory>

#include "base/clock.h"
#include "base/result.h"
#include "base/unique_fd.h"
#include "sandbox/forward.h"
#include "sandbox/spec.h"

namespace nsbuild::sandbox {

struct Prepared;  // the spec turned into the child's plain data (prepared.h)

class Sandbox {
 public:
  static base::Result<Sandbox> Start(const SandboxSpec& spec);

  Sandbox(Sandbox&&) noexcept;
  Sandbox& operator=(Sandbox&&) noexcept;
  ~Sandbox();

  pid_t pid() const { return pid_; }
  // Readable (POLLIN) once PID 1 has exited: for poll loops.
  int pidfd() const { return pidfd_.get(); }
  // With spec.watch_writes: the seccomp listener (readable when a watched
  // call waits for WriteWatcher::HandleOne); -1 otherwise.
  int notify_fd() const { return notify_fd_.get(); }

  // Blocks until PID 1 has exited (every process in the sandbox is gone then),
  // honouring spec.timeout_seconds. Call once.
  base::Result<ExitInfo> Wait();
  // Sends a signal to PID 1, which forwards it to the command; SIGKILL ends
  // the whole pid namespace at once.
  void Signal(int sig);

 private:
  Sandbox() = default;
  // The destructor's work: SIGKILL PID 1 (ending the namespace) and reap it.
  void KillAndReap();
  // Takes o's sandbox; o is left empty (reaped, nothing owned).
  void TakeFrom(Sandbox& o);
  ExitInfo Collect(const siginfo_t& si, const struct rusage& ru);

  pid_t pid_ = -1;
  base::UniqueFd pidfd_;
  // What PID 1 runs on; it may share our memory, so this lives until reaped.
  std::unique_ptr<Prepared> prepared_;
  base::UniqueFd status_read_;  // PID 1 writes the command's wait status
  base::UniqueFd error_read_;   // the child writes a SetupFailure record
  base::UniqueFd notify_fd_;
  // Network "distcc": relays the sandbox's listeners to the daemons; stopped
  // once PID 1 is reaped (every connection inside is closed by then).
  std::unique_ptr<Forwarder> forwarder_;
  base::Stopwatch started_;
  double timeout_seconds_ = 0;
  bool reaped_ = true;
};

// Convenience: Start + Wait.
base::Result<ExitInfo> Run(const SandboxSpec& spec);

}  // namespace nsbuild::sandbox
