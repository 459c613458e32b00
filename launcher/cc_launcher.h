// nsbuild-cc: a compiler launcher that puts tools which do not speak the
// jobserver (setuptools' `build -j`, ninja before 1.13, `cmake --build`)
// into the build's one pool of jobs.
//
// nsbuild places a directory first on each sub-phase's PATH whose cc, gcc,
// g++, c++, clang... are this program (as distcc's masquerade directory
// does). Run as one of those names it finds the real compiler further down
// PATH, takes a job slot, runs the compiler, gives the slot back, and exits
// as the compiler did.
//
// The slot comes from the sub-phase's own lease (builder/jobserver.h),
// reached by a path nsbuild chose and bound in ($NSBUILD_JOBSERVER), never
// from `--jobserver-auth=R,W` in MAKEFLAGS: make closes those descriptors
// for commands it does not think recursive, so the numbers may name any
// file by then (the ccache/make bug).
//
// Counting once: a compile that make (or cargo) started already runs on a
// token its parent took, so the launcher takes none when its nearest
// ancestor that is not a shell or a wrapper is make (or cargo's
// CARGO_MAKEFLAGS is set). No deadlock: the sub-phase's implicit slot (the
// one it holds from the scheduler) is an flock on the lease's fifo; the
// first launcher to get it runs without a token, so a sub-phase always has
// one compile running however the pool is drained, and the lock goes with
// the process, killed or not.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

namespace nsbuild::launcher {

// The names nsbuild links to the launcher.
const std::vector<std::string>& CompilerNames();

// The real program `name` on `path` (colon-separated), skipping any
// candidate that is the launcher itself (`self`, a resolved path) and
// relative entries. "" when there is none.
std::string FindReal(const std::string& name, const std::string& path, const std::string& self);

// Process names a compile may sit beneath without being its own job:
// shells and wrappers that start one compiler for their parent.
bool IsTransparent(const std::string& comm);
bool IsJobserverClient(const std::string& comm);

// Whether the nearest non-transparent ancestor is a jobserver client,
// following `parent_of` (pid → {ppid, comm}) from `pid`, at most 16 steps.
using ParentOf = std::function<bool(pid_t pid, pid_t* ppid, std::string* comm)>;
bool UnderJobserverClient(pid_t pid, const ParentOf& parent_of);
// /proc's answer.
bool ProcParentOf(pid_t pid, pid_t* ppid, std::string* comm);

// A job slot from the fifo at `path`: the implicit one (an flock) or a
// token read from it. Blocks until one is had; -1 on error with errno.
class Slot {
 public:
  Slot() = default;
  ~Slot() { Release(); }
  Slot(const Slot&) = delete;
  Slot& operator=(const Slot&) = delete;

  // poll_ms: how long to wait for a token before trying the lock again.
  int Acquire(const std::string& path, int poll_ms = 50);
  void Release();
  bool implicit() const { return implicit_; }
  bool held() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
  bool implicit_ = false;
  char token_ = '+';
};

}  // namespace nsbuild::launcher
