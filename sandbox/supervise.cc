#include "sandbox/supervise.h"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>

#include "base/clock.h"
#include "sandbox/sandbox.h"

namespace nsbuild::sandbox {
namespace {

constexpr int kForwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

// Blocks the forwarded signals for its lifetime and reads them from an fd.
class SignalCatcher {
 public:
  SignalCatcher() {
    sigemptyset(&set_);
    for (int s : kForwarded) sigaddset(&set_, s);
    sigprocmask(SIG_BLOCK, &set_, &old_);
    fd_.reset(signalfd(-1, &set_, SFD_CLOEXEC | SFD_NONBLOCK));
  }
  ~SignalCatcher() {
    // Drop what was caught but not read, so it is not delivered on unblock.
    struct timespec zero = {0, 0};
    while (sigtimedwait(&set_, nullptr, &zero) > 0) {
    }
    sigprocmask(SIG_SETMASK, &old_, nullptr);
  }
  int fd() const { return fd_.get(); }
  int Read() {
    signalfd_siginfo si;
    if (read(fd_.get(), &si, sizeof si) != sizeof si) return 0;
    return static_cast<int>(si.ssi_signo);
  }

 private:
  sigset_t set_, old_;
  base::UniqueFd fd_;
};

}  // namespace

base::Result<ExitInfo> RunInForeground(const SandboxSpec& spec, WriteWatcher* watcher) {
  SignalCatcher signals;
  // The timeout is ours here: Wait() must not apply it a second time.
  SandboxSpec untimed = spec;
  untimed.timeout_seconds = 0;
  NSB_ASSIGN_OR_RETURN(Sandbox box, Sandbox::Start(untimed));
  base::Stopwatch running;
  bool timed_out = false;
  for (;;) {
    int wait_ms = running.PollTimeoutMs(spec.timeout_seconds);
    int notify = watcher ? box.notify_fd() : -1;
    pollfd fds[3] = {{box.pidfd(), POLLIN, 0}, {signals.fd(), POLLIN, 0}, {notify, POLLIN, 0}};
    int rc = poll(fds, 3, wait_ms);
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) return base::ErrnoError("poll sandbox");
    if (rc == 0) {
      timed_out = true;
      box.Signal(SIGKILL);
      break;
    }
    if (fds[2].revents & POLLIN) watcher->HandleOne(notify);
    if (fds[0].revents) break;
    if (fds[1].revents) {
      if (int sig = signals.Read()) box.Signal(sig);
    }
  }
  NSB_ASSIGN_OR_RETURN(ExitInfo info, box.Wait());
  info.timed_out = timed_out;
  return info;
}

}  // namespace nsbuild::sandbox
