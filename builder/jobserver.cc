#include "builder/jobserver.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "base/dir_fd.h"
#include "base/fs.h"

namespace nsbuild::builder {
namespace {

constexpr char kTokenByte = '+';

base::Status CheckJobs(int jobs) {
  if (jobs < 1 || jobs > JobServer::kMaxJobs) {
    return base::PlainError("-j " + std::to_string(jobs) + ": must be 1.." +
                            std::to_string(JobServer::kMaxJobs));
  }
  return {};
}

// Re-opening through /proc gives a new open file description, whose
// O_NONBLOCK does not leak into the one the makes share.
base::Result<base::UniqueFd> NonblockingReader(int fd) {
  std::string self = base::ProcFdPath(fd);
  base::UniqueFd r(::open(self.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (!r) return base::ErrnoError("open " + self);
  return r;
}

}  // namespace

Token& Token::operator=(Token&& o) noexcept {
  if (this != &o) {
    Release();
    server_ = std::exchange(o.server_, nullptr);
  }
  return *this;
}

void Token::Release() {
  if (!server_) return;
  std::exchange(server_, nullptr)->Return();
}

// --- Lease ---------------------------------------------------------------

Lease::~Lease() { server_->Close(this); }

std::string Lease::MakeFlags(double load_average) const {
  std::string auth = fifo_host_.empty() || server_->fifo_as_descriptors_
                         ? std::to_string(read_.get()) + "," + std::to_string(write_.get())
                         : "fifo:" + server_->fifo_inside_;
  std::string flags = " -j" + std::to_string(server_->jobs_) + " --jobserver-auth=" + auth;
  if (load_average > 0) flags += " -l" + std::to_string(load_average);
  return flags;
}

std::vector<int> Lease::pass_fds() const {
  if (!fifo_host_.empty() && !server_->fifo_as_descriptors_) return {};
  return {read_.get(), write_.get()};
}

int Lease::Idle() const {
  int n = 0;
  if (::ioctl(nonblock_read_.get(), FIONREAD, &n) < 0) return 0;
  return n;
}

bool Lease::Give() {
  if (server_->free_ == 0) return false;
  char byte = kTokenByte;
  // At most jobs tokens are ever in the pipe: the write cannot block.
  ssize_t n;
  while ((n = ::write(write_.get(), &byte, 1)) < 0 && errno == EINTR) {
  }
  if (n != 1) return false;
  --server_->free_;
  ++out_;
  return true;
}

bool Lease::Take() {
  char byte;
  ssize_t n;
  while ((n = ::read(nonblock_read_.get(), &byte, 1)) < 0 && errno == EINTR) {
  }
  if (n != 1) return false;    // a make was quicker
  if (out_ == 0) return true;  // a token a client invented: dropped
  --out_;
  ++server_->free_;
  return true;
}

// --- JobServer -----------------------------------------------------------

base::Result<std::unique_ptr<JobServer>> JobServer::Create(int jobs) {
  NSB_TRY(CheckJobs(jobs));
  std::unique_ptr<JobServer> js(new JobServer());
  js->jobs_ = jobs;
  js->free_ = jobs;
  return js;
}

base::Result<std::unique_ptr<JobServer>> JobServer::CreateFifoAt(int jobs, base::BorrowedFd parent,
                                                                 const std::string& name,
                                                                 const std::string& fifo_dir,
                                                                 const std::string& inside_path,
                                                                 uid_t uid, gid_t gid) {
  NSB_ASSIGN_OR_RETURN(auto js, Create(jobs));
  // The directory stays ours (searchable by all); each fifo is the mapped
  // ids', so the sandboxes can open the one bound into them.
  NSB_ASSIGN_OR_RETURN(js->fifo_dir_fd_, base::MakeFreshDirAt(parent, name, 0755));
  js->fifo_parent_fd_.reset(::fcntl(parent.get(), F_DUPFD_CLOEXEC, 3));
  js->fifo_dir_name_ = name;
  js->fifo_dir_ = fifo_dir;
  js->fifo_inside_ = inside_path;
  js->fifo_uid_ = uid;
  js->fifo_gid_ = gid;
  return js;
}

JobServer::~JobServer() {
  if (!leases_.empty() || free_ != jobs_) {
    spdlog::warn("jobserver destroyed with {} lease(s) open and {} slot(s) taken", leases_.size(),
                 jobs_ - free_);
  }
  if (fifo_parent_fd_) ::unlinkat(fifo_parent_fd_.get(), fifo_dir_name_.c_str(), AT_REMOVEDIR);
}

Token JobServer::TryAcquire() {
  for (Lease* l : leases_) {
    if (free_ > 0) break;
    if (l->Idle() > 0) l->Take();
  }
  if (free_ == 0) return Token();
  --free_;
  return Token(this);
}

void JobServer::Return() { ++free_; }

base::Result<std::unique_ptr<Lease>> JobServer::OpenLease() {
  std::unique_ptr<Lease> lease(new Lease(this));
  if (fifo_dir_.empty()) {
    NSB_ASSIGN_OR_RETURN(base::Pipe pipe, base::MakePipe(O_CLOEXEC));
    lease->read_ = std::move(pipe.read);
    lease->write_ = std::move(pipe.write);
  } else {
    std::string name = "lease-" + std::to_string(++fifos_made_) + ".fifo";
    std::string path = fifo_dir_ + "/" + name;
    int dir = fifo_dir_fd_.get();
    ::unlinkat(dir, name.c_str(), 0);
    if (::mkfifoat(dir, name.c_str(), 0600) != 0) return base::ErrnoError("mkfifo " + path);
    lease->fifo_host_ = path;  // from here on ~Lease removes it
    lease->fifo_name_ = name;
    if (::fchownat(dir, name.c_str(), fifo_uid_, fifo_gid_, AT_SYMLINK_NOFOLLOW) != 0) {
      return base::ErrnoError("chown " + path);
    }
    // O_RDWR: opening never blocks, and we stay a writer so readers never see EOF.
    lease->write_.reset(::openat(dir, name.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC));
    if (!lease->write_) return base::ErrnoError("open " + path);
    lease->read_.reset(::fcntl(lease->write_.get(), F_DUPFD_CLOEXEC, 3));
    if (!lease->read_) return base::ErrnoError("dup " + path);
  }
  NSB_ASSIGN_OR_RETURN(lease->nonblock_read_, NonblockingReader(lease->read_.get()));
  leases_.push_back(lease.get());
  lease->Give();
  return lease;
}

void JobServer::Close(Lease* lease) {
  // Whatever the lease had out comes home: idle in its pipe, handed back
  // by make, or read by a process that was killed. Only those last ones
  // are "recovered".
  int idle = lease->nonblock_read_ ? lease->Idle() : 0;
  recovered_ += std::max(0, lease->out_ - idle);
  free_ += lease->out_;
  lease->out_ = 0;
  leases_.erase(std::remove(leases_.begin(), leases_.end(), lease), leases_.end());
  if (!lease->fifo_name_.empty()) ::unlinkat(fifo_dir_fd_.get(), lease->fifo_name_.c_str(), 0);
}

void JobServer::Balance() {
  // Idle tokens beyond one per lease go home.
  for (Lease* l : leases_) {
    int idle = l->Idle();
    while (idle > 1 && l->Take()) --idle;
    l->unused_turns_ = idle > 0 ? l->unused_turns_ + 1 : 0;
  }
  // Empty leases get one from the pool, or else the token another lease
  // left unused for two turns: nobody can tell which make waits, so an
  // unwanted token moves on until a make takes it.
  for (Lease* l : leases_) {
    if (l->Idle() > 0) continue;
    if (free_ == 0 && !ReclaimUnused(l)) break;
    l->Give();
  }
}

bool JobServer::ReclaimUnused(const Lease* except) {
  for (Lease* m : leases_) {
    if (m != except && m->unused_turns_ >= 2 && m->Take()) {
      m->unused_turns_ = 0;
      return true;
    }
  }
  return false;
}

bool JobServer::Hungry() const { return free_ > 0 && !leases_.empty(); }

int JobServer::InUse() const {
  int idle = 0;
  for (const Lease* l : leases_) idle += l->Idle();
  return std::max(0, jobs_ - free_ - idle);
}

void JobServer::Sample() { peak_ = std::max(peak_, InUse()); }

}  // namespace nsbuild::builder
