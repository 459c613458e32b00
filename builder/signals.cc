#include "builder/signals.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <memory>

#include "base/fs.h"

namespace nsbuild::builder {
namespace {

std::atomic<int> g_write_fd{-1};
volatile sig_atomic_t g_caught = 0;
struct sigaction g_old_int, g_old_term;

void OnSignal(int sig) {
  int saved = errno;
  if (g_caught == 0) g_caught = sig;
  int fd = g_write_fd.load();
  // Non-blocking: once one byte waits, more add nothing.
  if (fd >= 0) (void)!::write(fd, "x", 1);
  errno = saved;
}

}  // namespace

base::Result<std::unique_ptr<StopSignals>> StopSignals::Install() {
  NSB_ASSIGN_OR_RETURN(base::Pipe pipe, base::MakePipe(O_CLOEXEC | O_NONBLOCK));
  std::unique_ptr<StopSignals> s(new StopSignals());
  s->read_ = std::move(pipe.read);
  s->write_ = std::move(pipe.write);
  g_caught = 0;
  g_write_fd = s->write_.get();
  struct sigaction sa = {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  if (::sigaction(SIGINT, &sa, &g_old_int) != 0 || ::sigaction(SIGTERM, &sa, &g_old_term) != 0) {
    return base::ErrnoError("sigaction");
  }
  return s;
}

StopSignals::~StopSignals() {
  ::sigaction(SIGINT, &g_old_int, nullptr);
  ::sigaction(SIGTERM, &g_old_term, nullptr);
  g_write_fd = -1;
}

int StopSignals::caught() const { return g_caught; }

}  // namespace nsbuild::builder
