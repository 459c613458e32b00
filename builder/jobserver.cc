#include "builder/jobserver.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "base/fs.h"

namespace nsbuild::builder {
namespace {

constexpr char kTokenByte = '+';

base::Status WriteTokens(int fd, int count) {
  std::string bytes(static_cast<size_t>(count), kTokenByte);
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return base::ErrnoError("write jobserver tokens");
    done += static_cast<size_t>(n);
  }
  return {};
}

}  // namespace

Token& Token::operator=(Token&& o) noexcept {
  if (this != &o) {
    Release();
    server_ = std::exchange(o.server_, nullptr);
    implicit_ = o.implicit_;
    byte_ = o.byte_;
  }
  return *this;
}

void Token::Release() {
  if (!server_) return;
  std::exchange(server_, nullptr)->Return(implicit_, byte_);
}

base::Result<std::unique_ptr<JobServer>> JobServer::Create(int jobs) {
  if (jobs < 1 || jobs > kMaxJobs) {
    return base::PlainError("-j " + std::to_string(jobs) + ": must be 1.." + std::to_string(kMaxJobs));
  }
  std::unique_ptr<JobServer> js(new JobServer());
  js->jobs_ = jobs;
  NSB_ASSIGN_OR_RETURN(base::Pipe pipe, base::MakePipe(O_CLOEXEC));
  js->read_ = std::move(pipe.read);
  js->write_ = std::move(pipe.write);
  NSB_TRY(Fill(js.get()));
  return js;
}

base::Status JobServer::Fill(JobServer* js) {
  // Re-opening through /proc gives a new open file description, whose
  // O_NONBLOCK does not leak into the one the makes share.
  std::string self = "/proc/self/fd/" + std::to_string(js->read_.get());
  js->nonblock_read_.reset(::open(self.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (!js->nonblock_read_) return base::ErrnoError("open " + self);
  return WriteTokens(js->write_.get(), js->jobs_ - 1);
}

base::Result<std::unique_ptr<JobServer>> JobServer::CreateFifo(int jobs, const std::string& host_path,
                                                               const std::string& inside_path,
                                                               uid_t uid, gid_t gid) {
  if (jobs < 1 || jobs > kMaxJobs) {
    return base::PlainError("-j " + std::to_string(jobs) + ": must be 1.." + std::to_string(kMaxJobs));
  }
  std::unique_ptr<JobServer> js(new JobServer());
  js->jobs_ = jobs;
  ::unlink(host_path.c_str());
  if (::mkfifo(host_path.c_str(), 0600) != 0) return base::ErrnoError("mkfifo " + host_path);
  if (::chown(host_path.c_str(), uid, gid) != 0) return base::ErrnoError("chown " + host_path);
  // O_RDWR: opening never blocks, and we stay a writer so readers never see EOF.
  js->write_.reset(::open(host_path.c_str(), O_RDWR | O_CLOEXEC));
  if (!js->write_) return base::ErrnoError("open " + host_path);
  js->read_.reset(::fcntl(js->write_.get(), F_DUPFD_CLOEXEC, 3));
  if (!js->read_) return base::ErrnoError("dup " + host_path);
  js->fifo_host_ = host_path;
  js->fifo_inside_ = inside_path;
  NSB_TRY(Fill(js.get()));
  return js;
}

std::vector<int> JobServer::pass_fds() const {
  if (!fifo_host_.empty()) return {};
  return {read_.get(), write_.get()};
}

JobServer::~JobServer() {
  if (!fifo_host_.empty()) ::unlink(fifo_host_.c_str());
  if (held_tokens_ > 0 || !implicit_free_) {
    spdlog::warn("jobserver destroyed with {} token(s) still held", held_tokens_);
  }
}

std::string JobServer::MakeFlags(double load_average) const {
  std::string auth = fifo_host_.empty()
                         ? std::to_string(read_.get()) + "," + std::to_string(write_.get())
                         : "fifo:" + fifo_inside_;
  std::string flags = " -j" + std::to_string(jobs_) + " --jobserver-auth=" + auth;
  if (load_average > 0) flags += " -l" + std::to_string(load_average);
  return flags;
}

Token JobServer::TryAcquire() {
  if (implicit_free_) {
    implicit_free_ = false;
    return Token(this, true, kTokenByte);
  }
  char byte;
  for (;;) {
    ssize_t n = ::read(nonblock_read_.get(), &byte, 1);
    if (n == 1) {
      ++held_tokens_;
      return Token(this, false, byte);
    }
    if (n < 0 && errno == EINTR) continue;
    return Token();  // EAGAIN: every token is out
  }
}

void JobServer::Return(bool implicit, char byte) {
  if (implicit) {
    implicit_free_ = true;
    return;
  }
  --held_tokens_;
  // The pipe has room for every token, so this write cannot block.
  while (::write(write_.get(), &byte, 1) < 0 && errno == EINTR) {
  }
}

int JobServer::Available() const {
  int n = 0;
  if (::ioctl(nonblock_read_.get(), FIONREAD, &n) < 0) return 0;
  return n;
}

int JobServer::InUse() const { return std::max(0, jobs_ - Available() - (implicit_free_ ? 1 : 0)); }

void JobServer::Sample() { peak_ = std::max(peak_, InUse()); }

base::Result<int> JobServer::Reconcile() {
  int want = jobs_ - 1 - held_tokens_;
  int have = Available();
  if (have < want) {
    spdlog::debug("jobserver: {} token(s) lost by killed jobs, writing them back", want - have);
    NSB_TRY(WriteTokens(write_.get(), want - have));
  }
  for (int i = have; i > want; --i) {
    char byte;
    if (::read(nonblock_read_.get(), &byte, 1) != 1) break;
  }
  if (have > want) spdlog::warn("jobserver: {} extra token(s) appeared; drained", have - want);
  return want - have;
}

}  // namespace nsbuild::builder
