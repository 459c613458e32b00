#include "sandbox/sandbox.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstring>

#include "base/fd_passing.h"
#include "base/fs.h"
#include "sandbox/child/clone.h"
#include "sandbox/child/init.h"
#include "sandbox/child/report.h"
#include "sandbox/distcc_hosts.h"
#include "sandbox/prepared.h"
#include "sandbox/user_ns.h"

namespace nsbuild::sandbox {
namespace {

using base::ErrnoError;
using base::Result;
using base::UniqueFd;

uint64_t CloneFlags(const SandboxSpec& spec) {
  uint64_t flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS |
                   CLONE_NEWCGROUP | CLONE_PIDFD;
  if (spec.net != NetMode::kHost) flags |= CLONE_NEWNET;
  return flags;
}

// PID 1 shares our memory when we are root (child/init.h says why and what
// that demands); otherwise it is a copying clone. Either way it starts on
// its own stack in child::Pid1Entry. Returns the pid or -errno.
long ClonePid1(uint64_t flags, const Prepared& p, int* pidfd, bool share_memory) {
  if (share_memory) flags |= CLONE_VM;
  return child::CloneOnStack(flags, SIGCHLD, pidfd, p.plan.init_stack, p.plan.stack_size,
                             child::Pid1Entry, const_cast<child::Plan*>(&p.plan));
}

// PID 1's parent-death signal fires when the *thread* that cloned it ends,
// and a shared-memory PID 1 runs on that thread's TLS: only the main thread,
// which lives as long as nsbuild, may start a sandbox.
base::Status CheckMainThread() {
  pid_t tid = static_cast<pid_t>(syscall(SYS_gettid));
  if (tid == getpid()) return {};
  return base::PlainError("sandboxes start only from nsbuild's main thread (called from thread " +
                          std::to_string(tid) + " of process " + std::to_string(getpid()) + ")");
}

double Seconds(const timeval& tv) { return tv.tv_sec + tv.tv_usec / 1e6; }

// waitid on the pidfd, with rusage (glibc's waitid has no rusage argument).
int WaitPidfd(int pidfd, siginfo_t* si, struct rusage* ru) {
  for (;;) {
    long rc = syscall(SYS_waitid, P_PIDFD, pidfd, si, WEXITED, ru);
    if (rc == 0 || errno != EINTR) return static_cast<int>(rc);
  }
}

std::optional<SetupFailure> ReadFailure(int fd) {
  child::FailureRecord rec;
  ssize_t n;
  do {
    n = read(fd, &rec, sizeof rec);
  } while (n < 0 && errno == EINTR);
  if (n != static_cast<ssize_t>(sizeof rec)) return std::nullopt;
  rec.detail[sizeof rec.detail - 1] = '\0';
  return SetupFailure{static_cast<Step>(rec.step), rec.errnum, rec.detail};
}

// The descriptors of one SCM_RIGHTS message (at most kMaxDistccHosts);
// empty on EOF or a failed receive (the sender failed and says why
// elsewhere). *truncated: the message carried more than that.
std::vector<UniqueFd> ReceiveFds(int sock, bool* truncated) {
  auto got = base::ReceiveFds(sock, kMaxDistccHosts);
  if (!got.ok()) return {};
  *truncated = got->truncated;
  return std::move(got->fds);
}

// The command's seccomp listener, sent with SCM_RIGHTS; -1 on EOF.
int ReceiveFd(int sock) {
  bool truncated = false;
  std::vector<UniqueFd> fds = ReceiveFds(sock, &truncated);
  return fds.empty() ? -1 : fds.front().release();
}

// The listening sockets PID 1 made in the sandbox's network namespace, all
// in one message; empty on EOF (PID 1 failed and says why).
Result<std::vector<UniqueFd>> ReceiveListeners(int sock, size_t want) {
  bool truncated = false;
  std::vector<UniqueFd> fds = ReceiveFds(sock, &truncated);
  if (fds.empty()) return fds;
  if (fds.size() != want || truncated) {
    return base::PlainError("forwarding listeners: got " + std::to_string(fds.size()) + " of " +
                            std::to_string(want));
  }
  return fds;
}

// Network "distcc": takes the listeners from PID 1 and starts the relay.
base::Status StartForwarder(int sock, const SandboxSpec& spec, std::unique_ptr<Forwarder>* out) {
  NSB_ASSIGN_OR_RETURN(std::vector<UniqueFd> listeners,
                       ReceiveListeners(sock, spec.forwards.size()));
  if (listeners.empty()) return {};  // setup failed inside; Wait() reports the step
  NSB_ASSIGN_OR_RETURN(*out, Forwarder::Start(std::move(listeners), spec.forwards));
  return {};
}

}  // namespace

Result<Sandbox> Sandbox::Start(const SandboxSpec& spec) {
  NSB_TRY(CheckMainThread());
  NSB_ASSIGN_OR_RETURN(Prepared prepared, Prepare(spec));
  NSB_ASSIGN_OR_RETURN(base::Pipe sync, base::MakePipe());
  NSB_ASSIGN_OR_RETURN(base::Pipe error, base::MakePipe());
  NSB_ASSIGN_OR_RETURN(base::Pipe status, base::MakePipe());
  int socks[2] = {-1, -1};
  if (spec.watch_writes && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, socks) != 0) {
    return ErrnoError("socketpair for the write watcher");
  }
  UniqueFd notify_ours(socks[0]), notify_theirs(socks[1]);
  int lsocks[2] = {-1, -1};
  if (spec.net == NetMode::kDistcc &&
      socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, lsocks) != 0) {
    return ErrnoError("socketpair for the forwarding listeners");
  }
  UniqueFd listen_ours(lsocks[0]), listen_theirs(lsocks[1]);
  Sandbox s;
  s.prepared_ = std::make_unique<Prepared>(std::move(prepared));
  child::Plan& plan = s.prepared_->plan;
  plan.sync_read = sync.read.get();
  plan.error_write = error.write.get();
  plan.status_write = status.write.get();
  plan.notify_sock = notify_theirs.get();
  plan.listen_sock = listen_theirs.get();

  int pidfd = -1;
  // Only root's PID 1 shares our memory (child/init.h says why).
  bool share_memory = !spec.ids.CallerOwnsIt();
  long rc = ClonePid1(CloneFlags(spec), *s.prepared_, &pidfd, share_memory);
  if (rc < 0) return base::Error{static_cast<int>(-rc), "clone with new namespaces"};
  pid_t pid = static_cast<pid_t>(rc);

  s.pid_ = pid;
  s.pidfd_.reset(pidfd);
  s.reaped_ = false;
  s.started_ = base::Stopwatch();
  s.timeout_seconds_ = spec.timeout_seconds;
  s.error_read_ = std::move(error.read);
  s.status_read_ = std::move(status.read);
  // Our copies of the child's ends go now, so EOF means "the child is done".
  error.write.reset();
  status.write.reset();
  sync.read.reset();
  notify_theirs.reset();
  listen_theirs.reset();
  if (auto st = WriteIdMaps(pid, spec.ids); !st) {
    return base::Wrap(st.take_error(), "user namespace id map");  // ~Sandbox kills
  }
  char go = 1;
  if (write(sync.write.get(), &go, 1) != 1) return ErrnoError("release sandbox child");
  if (listen_ours) NSB_TRY(StartForwarder(listen_ours.get(), spec, &s.forwarder_));
  if (notify_ours) {
    // EOF instead of an fd means setup failed; Wait() will say where.
    s.notify_fd_.reset(ReceiveFd(notify_ours.get()));
  }
  return s;
}

Sandbox::Sandbox(Sandbox&& o) noexcept { TakeFrom(o); }

Sandbox& Sandbox::operator=(Sandbox&& o) noexcept {
  if (this == &o) return *this;
  // Our own sandbox ends first: its PID 1 may run on prepared_'s memory,
  // which the move below frees.
  KillAndReap();
  TakeFrom(o);
  return *this;
}

void Sandbox::TakeFrom(Sandbox& o) {
  pid_ = std::exchange(o.pid_, -1);
  pidfd_ = std::move(o.pidfd_);
  prepared_ = std::move(o.prepared_);
  status_read_ = std::move(o.status_read_);
  notify_fd_ = std::move(o.notify_fd_);
  error_read_ = std::move(o.error_read_);
  forwarder_ = std::move(o.forwarder_);
  started_ = o.started_;
  timeout_seconds_ = o.timeout_seconds_;
  reaped_ = std::exchange(o.reaped_, true);
}

Sandbox::~Sandbox() { KillAndReap(); }

void Sandbox::KillAndReap() {
  if (reaped_ || !pidfd_) return;
  // Killing PID 1 ends the whole pid namespace; then reap it.
  syscall(SYS_pidfd_send_signal, pidfd_.get(), SIGKILL, nullptr, 0);
  siginfo_t si;
  struct rusage ru;
  WaitPidfd(pidfd_.get(), &si, &ru);
  reaped_ = true;
}

void Sandbox::Signal(int sig) {
  if (!reaped_ && pidfd_) syscall(SYS_pidfd_send_signal, pidfd_.get(), sig, nullptr, 0);
}

Result<ExitInfo> Sandbox::Wait() {
  if (reaped_) return base::PlainError("sandbox already waited for");
  bool timed_out = false;
  if (timeout_seconds_ > 0) {
    for (;;) {
      pollfd pfd = {pidfd_.get(), POLLIN, 0};
      int rc = poll(&pfd, 1, started_.PollTimeoutMs(timeout_seconds_));
      if (rc > 0) break;
      if (rc == 0) {
        timed_out = true;
        Signal(SIGKILL);
        break;
      }
      if (errno != EINTR) return ErrnoError("poll sandbox pidfd");
    }
  }
  siginfo_t si = {};
  struct rusage ru = {};
  if (WaitPidfd(pidfd_.get(), &si, &ru) != 0) return ErrnoError("waitid sandbox");
  reaped_ = true;
  ExitInfo info = Collect(si, ru);
  info.timed_out = timed_out;
  if (forwarder_) {
    forwarder_->Stop();
    info.forwarded = forwarder_->forwarded();
    info.forward_failures = forwarder_->failures();
  }
  return info;
}

ExitInfo Sandbox::Collect(const siginfo_t& si, const struct rusage& ru) {
  ExitInfo info;
  info.host_pid = pid_;
  info.wall_seconds = started_.Seconds();
  info.user_seconds = Seconds(ru.ru_utime);
  info.sys_seconds = Seconds(ru.ru_stime);
  info.max_rss_kib = ru.ru_maxrss;
  info.setup_failure = ReadFailure(error_read_.get());
  int status = 0;
  ssize_t n = read(status_read_.get(), &status, sizeof status);
  if (n == sizeof status) {
    info.signaled = WIFSIGNALED(status);
    info.code = WIFEXITED(status) ? WEXITSTATUS(status) : 0;
    info.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  } else if (si.si_code == CLD_EXITED) {
    info.code = si.si_status;  // PID 1 itself ended (setup failure: 125)
  } else {
    info.signaled = true;  // PID 1 was killed (timeout, Signal(SIGKILL))
    info.signal = si.si_status;
  }
  return info;
}

Result<ExitInfo> Run(const SandboxSpec& spec) {
  NSB_ASSIGN_OR_RETURN(Sandbox s, Sandbox::Start(spec));
  return s.Wait();
}

}  // namespace nsbuild::sandbox
