#include "base/subprocess.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "base/fs.h"
#include "base/unique_fd.h"

extern char** environ;

namespace nsbuild::base {
namespace {

// The posix_spawn attribute and file-action objects, destroyed on every path.
class SpawnSetup {
 public:
  SpawnSetup() {
    fa_ok_ = posix_spawn_file_actions_init(&fa_) == 0;
    attr_ok_ = posix_spawnattr_init(&attr_) == 0;
  }
  ~SpawnSetup() {
    if (fa_ok_) posix_spawn_file_actions_destroy(&fa_);
    if (attr_ok_) posix_spawnattr_destroy(&attr_);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;

  // Each call returns 0 or an errno, as the posix_spawn functions do.
  int Init() const { return fa_ok_ && attr_ok_ ? 0 : ENOMEM; }
  int NewSession() { return posix_spawnattr_setflags(&attr_, POSIX_SPAWN_SETSID); }
  int Fd(const ChildFd& f, int high) {
    if (f.source == kDevNull) {
      int flags = f.target == 0 ? O_RDONLY : O_WRONLY;
      return posix_spawn_file_actions_addopen(&fa_, f.target, "/dev/null", flags, 0);
    }
    return posix_spawn_file_actions_adddup2(&fa_, high, f.target);
  }
  const posix_spawn_file_actions_t* actions() const { return &fa_; }
  const posix_spawnattr_t* attr() const { return &attr_; }

 private:
  posix_spawn_file_actions_t fa_;
  posix_spawnattr_t attr_;
  bool fa_ok_ = false;
  bool attr_ok_ = false;
};

std::vector<char*> Pointers(const std::vector<std::string>& v) {
  std::vector<char*> p;
  for (const auto& s : v) p.push_back(const_cast<char*>(s.c_str()));
  p.push_back(nullptr);
  return p;
}

// Sources moved above every target first (close-on-exec copies), so that
// one dup2 in the child cannot overwrite the source of the next (a source
// that happens to be 3 when 3 is another's target).
Result<std::vector<UniqueFd>> RaiseSources(const std::vector<ChildFd>& fds, int above) {
  std::vector<UniqueFd> high;
  for (const ChildFd& f : fds) {
    if (f.source == kDevNull) {
      high.emplace_back();
      continue;
    }
    high.emplace_back(::fcntl(f.source, F_DUPFD_CLOEXEC, above));
    if (!high.back()) return ErrnoError("dup fd " + std::to_string(f.source));
  }
  return high;
}

}  // namespace

Result<Subprocess> Subprocess::Spawn(const SpawnOptions& opts) {
  if (opts.argv.empty()) return PlainError("spawn: no program");
  std::string what = "spawn " + opts.argv[0];
  int above = 3;
  for (const ChildFd& f : opts.fds) above = std::max(above, f.target + 1);
  NSB_ASSIGN_OR_RETURN(std::vector<UniqueFd> high, RaiseSources(opts.fds, above));
  SpawnSetup setup;
  int err = setup.Init();
  if (err == 0 && opts.new_session) err = setup.NewSession();
  for (size_t i = 0; err == 0 && i < opts.fds.size(); ++i)
    err = setup.Fd(opts.fds[i], high[i].get());
  if (err != 0) return Error{err, what + ": set up its descriptors"};
  std::vector<char*> args = Pointers(opts.argv);
  std::vector<char*> env = opts.env ? Pointers(*opts.env) : std::vector<char*>{};
  char** envp = opts.env ? env.data() : environ;
  pid_t pid = -1;
  err = opts.search_path
            ? posix_spawnp(&pid, args[0], setup.actions(), setup.attr(), args.data(), envp)
            : posix_spawn(&pid, args[0], setup.actions(), setup.attr(), args.data(), envp);
  if (err != 0) return Error{err, what};
  return Subprocess(pid);
}

Result<Subprocess> Subprocess::Fork(const std::function<int()>& fn) {
  pid_t pid = ::fork();
  if (pid < 0) return ErrnoError("fork");
  if (pid == 0) _exit(fn());
  return Subprocess(pid);
}

Subprocess::Subprocess(Subprocess&& o) noexcept : pid_(std::exchange(o.pid_, -1)) {}

Subprocess& Subprocess::operator=(Subprocess&& o) noexcept {
  if (this != &o) {
    KillAndReap();
    pid_ = std::exchange(o.pid_, -1);
  }
  return *this;
}

Subprocess::~Subprocess() { KillAndReap(); }

void Subprocess::KillAndReap() {
  if (pid_ < 0) return;
  int saved = errno;
  ::kill(pid_, SIGKILL);
  while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  errno = saved;
}

Result<int> Subprocess::Wait() {
  if (pid_ < 0) return PlainError("wait: the child was already reaped");
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0) {
    if (errno != EINTR) return ErrnoError("waitpid " + std::to_string(pid_));
  }
  pid_ = -1;
  return status;
}

int ExitCodeOf(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  return WIFSIGNALED(wait_status) ? 128 + WTERMSIG(wait_status) : 128;
}

Result<CapturedOutput> RunCapturingStdout(SpawnOptions opts, size_t cap) {
  NSB_ASSIGN_OR_RETURN(Pipe pipe, MakePipe(O_CLOEXEC));
  opts.fds.push_back({1, pipe.write.get()});
  NSB_ASSIGN_OR_RETURN(Subprocess child, Subprocess::Spawn(opts));
  pipe.write.reset();  // EOF once the child (and its children) close theirs
  CapturedOutput got;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(pipe.read.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError("read the output of " + opts.argv[0]);
    if (n == 0) break;
    size_t keep = std::min(static_cast<size_t>(n), cap - std::min(cap, got.out.size()));
    got.out.append(buf, keep);
  }
  NSB_ASSIGN_OR_RETURN(got.wait_status, child.Wait());
  return got;
}

}  // namespace nsbuild::base
