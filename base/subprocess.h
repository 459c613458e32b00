// Child processes of the host side (not sandboxes: sandbox/sandbox.h): a
// program started with posix_spawn, or a function run in a forked child.
// The owner kills and reaps the child in its destructor unless it was waited
// for, so no early return leaves a zombie or a stray process behind.
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"

namespace nsbuild::base {

// One descriptor of the child: `target` becomes a copy of our `source`, or
// /dev/null (opened for reading on 0, for writing elsewhere) when source is
// kDevNull. Every other descriptor of ours is close-on-exec (the project
// opens everything O_CLOEXEC) and does not reach the child.
inline constexpr int kDevNull = -1;
struct ChildFd {
  int target;
  int source;
};

struct SpawnOptions {
  std::vector<std::string> argv;                // argv[0] is the program
  bool search_path = false;                     // find argv[0] on PATH (posix_spawnp)
  std::optional<std::vector<std::string>> env;  // nothing: our environment
  bool new_session = false;                     // setsid: a Ctrl-C for us does not reach it
  std::vector<ChildFd> fds;
};

class Subprocess {
 public:
  static Result<Subprocess> Spawn(const SpawnOptions& opts);
  // Runs fn in a forked child, which exits with what fn returns. The child
  // of a process with threads may only do async-signal-safe things: fn must
  // not allocate or take locks.
  static Result<Subprocess> Fork(const std::function<int()>& fn);

  Subprocess(Subprocess&& o) noexcept;
  Subprocess& operator=(Subprocess&& o) noexcept;
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;
  ~Subprocess();

  pid_t pid() const { return pid_; }
  // Reaps the child (retrying EINTR) and returns its wait status.
  Result<int> Wait();

 private:
  explicit Subprocess(pid_t pid) : pid_(pid) {}
  void KillAndReap();

  pid_t pid_ = -1;  // -1 once reaped
};

// The exit code of a wait status, or 128 + the signal that ended it, as a
// shell reports it.
int ExitCodeOf(int wait_status);

struct CapturedOutput {
  std::string out;      // at most the cap; the rest was read and dropped
  int wait_status = 0;  // as waitpid gives it
};

// Runs the program to its end with its stdout read into memory (at most
// `cap` bytes kept; reading goes on, so it never blocks on a full pipe).
// opts.fds must not name fd 1.
Result<CapturedOutput> RunCapturingStdout(SpawnOptions opts, size_t cap);

}  // namespace nsbuild::base
