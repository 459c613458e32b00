// nsbuild as a GNU make jobserver server: one pool of N job slots shared by
// the sub-phases and by every make (and make-compatible tool) inside them.
//
// A running sub-phase holds one slot for its whole life; that slot is also
// the implicit slot of the top-level make inside it (so a make alone in the
// pool runs N jobs). For its extra jobs, each sub-phase gets a Lease: a pipe of its
// own (`--jobserver-auth=R,W`, the protocol of make 4.3 and later, passed
// into its sandbox at the same numbers) or, with CreateFifo, a named fifo of
// its own (`--jobserver-auth=fifo:PATH`, make 4.4). The server moves tokens
// between the pool and the leases (Balance): a lease whose pipe is empty gets
// one while the pool has any (or from a lease that left its token unused),
// and a lease's idle tokens beyond one go back.
// So at most N jobs run at any time across all implementations.
//
// Why a pipe per sub-phase rather than one shared pipe: a make killed by
// SIGKILL (a timeout, --fail-fast, the sandbox's pid namespace dying) never
// writes back the tokens it had read, and with one shared pipe nothing tells
// the server how many those were while other makes run. With a lease, every
// token the server put in is known: when the sub-phase ends, the lease
// closes and all of them come back to the pool at once, whether they were
// idle in the pipe, handed back by make, or lost with a killed process.
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
  void Release();

 private:
  friend class JobServer;
  explicit Token(JobServer* server) : server_(server) {}

  JobServer* server_ = nullptr;
};

// One sub-phase's own jobserver pipe (or fifo). Closing it returns every
// token the server ever put in and did not take back.
class Lease {
 public:
  ~Lease();
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;

  // " -jN --jobserver-auth=R,W [-lL]" or "... fifo:INSIDE_PATH".
  std::string MakeFlags(double load_average) const;
  // The descriptors the sandbox receives at the same numbers (blocking, as
  // make 4.3 expects); none in the fifo form.
  std::vector<int> pass_fds() const;
  // The fifo to bind into the sandbox at the inside path; "" for a pipe.
  const std::string& fifo_path() const { return fifo_host_; }
  // The client's ends (what make uses), for tests.
  int read_fd() const { return read_.get(); }
  int write_fd() const { return write_.get(); }
  // Tokens given to this lease and not taken back: idle in the pipe, or
  // held by its makes.
  int out() const { return out_; }
  // Tokens sitting in the pipe right now.
  int Idle() const;

 private:
  friend class JobServer;
  explicit Lease(JobServer* server) : server_(server) {}
  bool Give();  // one pool token into the pipe
  bool Take();  // one idle token back into the pool

  JobServer* server_;
  base::UniqueFd read_, write_;
  base::UniqueFd nonblock_read_;  // our own reads never block
  std::string fifo_host_;
  std::string fifo_name_;  // in the server's fifo dir
  int out_ = 0;
  int unused_turns_ = 0;  // Balance turns its idle token sat in the pipe
};

class JobServer {
 public:
  static constexpr int kMaxJobs = 4096;  // far below a pipe's 64 KiB buffer

  // A pool of `jobs` slots; leases are pipes. The returned object must
  // outlive every Token and Lease it hands out.
  static base::Result<std::unique_ptr<JobServer>> Create(int jobs);
  // Leases are fifos (mode 0600, owned by uid/gid, the ids the sandboxes'
  // root maps to), each bound in at `inside_path`, in directory `name` of
  // `parent` (the work dir), made afresh
  // (nsbuild's own, mode 0755, not writable by the sandboxes) and removed
  // with the server: fifos are made, chowned and opened through its fd,
  // never by path; `fifo_dir` is its path, for the binds.
  static base::Result<std::unique_ptr<JobServer>> CreateFifoAt(int jobs, base::BorrowedFd parent,
                                                               const std::string& name,
                                                               const std::string& fifo_dir,
                                                               const std::string& inside_path,
                                                               uid_t uid, gid_t gid);
  ~JobServer();

  // Fifo leases handed to make as descriptors (--jobserver-auth=R,W, for
  // make 4.3, which knows no fifo:), the fifo still bound in for the
  // compiler launcher (launcher/cc_launcher.h), which takes its slots by
  // that path of nsbuild's own rather than by fd numbers.
  void set_fifo_as_descriptors(bool on) { fifo_as_descriptors_ = on; }
  // Whether leases are fifos (a path the launcher can be given).
  bool fifo_leases() const { return !fifo_dir_.empty(); }

  int jobs() const { return jobs_; }

  // A free slot now, or an invalid Token. Never blocks. Starting a sub-phase
  // comes before a make's next job: a token idle in some lease is taken back
  // when the pool is empty.
  Token TryAcquire();
  // The private pipe (or fifo) of a sub-phase about to start. It gets one
  // token at once when the pool has one.
  base::Result<std::unique_ptr<Lease>> OpenLease();
  // Moves tokens: leases holding more than one idle token give the extras
  // back; empty leases get one while the pool has any. The scheduler calls
  // it on every turn of its loop.
  void Balance();
  // True while a lease could use tokens the pool has: the scheduler then
  // turns its loop faster, so a make waiting for a token is not kept long.
  bool Hungry() const;

  // Slots nobody holds right now (N when idle).
  int Available() const { return free_; }
  // Slots taken now (sub-phases and the jobs of the makes inside them), and
  // the most ever seen by Sample().
  int InUse() const;
  void Sample();
  int peak_in_use() const { return peak_; }
  // Tokens that came back from closed leases without having been given back
  // by their makes (killed ones).
  int recovered() const { return recovered_; }

 private:
  friend class Token;
  friend class Lease;
  JobServer() = default;
  void Return();
  void Close(Lease* lease);
  bool ReclaimUnused(const Lease* except);

  int jobs_ = 1;
  int free_ = 0;  // jobs_ minus sub-phase slots minus tokens out in leases
  std::string fifo_dir_, fifo_inside_;
  base::UniqueFd fifo_dir_fd_, fifo_parent_fd_;
  std::string fifo_dir_name_;
  bool fifo_as_descriptors_ = false;
  uid_t fifo_uid_ = 0;
  gid_t fifo_gid_ = 0;
  unsigned long fifos_made_ = 0;
  std::vector<Lease*> leases_;
  int peak_ = 0;
  int recovered_ = 0;
};

}  // namespace nsbuild::builder
