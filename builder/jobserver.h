// nsbuild as a GNU make jobserver server: one pool of N job slots shared by
// the sub-phases and by every make (and make-compatible tool) inside them.
//
// The pool is a pipe holding N-1 one-byte tokens plus one implicit slot, the
// protocol GNU make uses (`--jobserver-auth=R,W`, understood by make 4.3 and
// later). The fds are passed into each sandbox at the same numbers. A running
// sub-phase holds one slot (the implicit one or a token) for its whole life;
// that slot is also the implicit slot of the top-level make inside it, which
// reads further tokens from the pipe for its extra jobs. So at most N jobs run
// at any time across all implementations.
//
// make 4.4 also knows a named-fifo form (`--jobserver-auth=fifo:PATH`); with
// CreateFifo the pool is such a fifo, bound into each sandbox at one path,
// and no descriptors are passed. make 4.3 does not understand it, so the
// pipe is the default.
//
// Recovering tokens from a killed sub-phase: a make killed by SIGKILL (the
// sandbox's pid namespace dying) never writes back the tokens it had read,
// and nothing tells the server how many those were, because all makes share
// one pipe. Rather than guess while others run, the server restores the pool
// from its invariant: whenever no sub-phase is running, nobody can hold a
// token, so the pipe must hold exactly N-1 bytes. Reconcile() counts them
// (FIONREAD) and writes the missing ones back (or drains extras a buggy
// client added). The scheduler calls it every time the last running
// sub-phase has ended, and once at the end of the run. Between a kill and
// that point the pool is smaller than N, so the limit is never exceeded.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"

namespace nsbuild::builder {

class JobServer;

// One job slot. Move-only, so a slot is given back exactly once: by
// Release() or by the destructor.
class Token {
 public:
  Token() = default;
  Token(Token&& o) noexcept { *this = std::move(o); }
  Token& operator=(Token&& o) noexcept;
  Token(const Token&) = delete;
  Token& operator=(const Token&) = delete;
  ~Token() { Release(); }

  bool valid() const { return server_ != nullptr; }
  bool implicit() const { return implicit_; }
  void Release();

 private:
  friend class JobServer;
  Token(JobServer* server, bool implicit, char byte)
      : server_(server), implicit_(implicit), byte_(byte) {}

  JobServer* server_ = nullptr;
  bool implicit_ = false;
  char byte_ = '+';
};

class JobServer {
 public:
  static constexpr int kMaxJobs = 4096;  // far below a pipe's 64 KiB buffer

  // Fills a fresh pipe with jobs-1 tokens. The returned object must outlive
  // every Token it hands out.
  static base::Result<std::unique_ptr<JobServer>> Create(int jobs);
  // The fifo form: creates the fifo at `host_path` (mode 0600, owned by
  // uid/gid, the ids the sandboxes' root maps to); MakeFlags names it as
  // `inside_path`.
  static base::Result<std::unique_ptr<JobServer>> CreateFifo(int jobs, const std::string& host_path,
                                                             const std::string& inside_path,
                                                             uid_t uid, gid_t gid);
  ~JobServer();

  int jobs() const { return jobs_; }
  // The descriptors a sandbox receives at the same numbers (blocking, as
  // make 4.3 expects); none in the fifo form.
  int read_fd() const { return read_.get(); }
  int write_fd() const { return write_.get(); }
  std::vector<int> pass_fds() const;
  const std::string& fifo_path() const { return fifo_host_; }  // "" for a pipe
  // MAKEFLAGS for the sub-phases: " -jN --jobserver-auth=R,W [-lL]".
  std::string MakeFlags(double load_average) const;

  // A free slot now, or an invalid Token. Never blocks.
  Token TryAcquire();
  // Readable when a token may be in the pipe (for the scheduler's poll).
  int poll_fd() const { return nonblock_read_.get(); }

  // Tokens in the pipe right now.
  int Available() const;
  // Slots taken now (by sub-phases and by the makes inside them), and the
  // most ever seen by Sample().
  int InUse() const;
  void Sample();
  int peak_in_use() const { return peak_; }

  // Restores the pipe to exactly jobs-1 tokens. Only valid while no client
  // can hold a token (no sub-phase running) and no Token of ours is held but
  // the implicit one. Returns tokens written back (negative: drained).
  base::Result<int> Reconcile();

 private:
  friend class Token;
  JobServer() = default;
  void Return(bool implicit, char byte);

  static base::Status Fill(JobServer* js);

  int jobs_ = 1;
  base::UniqueFd read_, write_;
  std::string fifo_host_, fifo_inside_;
  // A second open file description of the same pipe, so our reads never
  // block while make's stay blocking.
  base::UniqueFd nonblock_read_;
  bool implicit_free_ = true;
  int held_tokens_ = 0;  // pipe tokens held by our own Tokens
  int peak_ = 0;
};

}  // namespace nsbuild::builder
