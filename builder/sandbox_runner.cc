#include "builder/sandbox_runner.h"

#include <signal.h>
#include <spdlog/spdlog.h>

#include "base/escape.h"
#include "sandbox/sandbox.h"
#include "sandbox/user_ns.h"
#include "sandbox/write_capture.h"
#include "sandbox/write_watch.h"

namespace nsbuild::builder {
namespace {

class SandboxCommand : public RunningCommand {
 public:
  // watcher: null when writes are not watched; capture: null unless the
  // watcher captures (it points there).
  SandboxCommand(sandbox::Sandbox s, std::unique_ptr<sandbox::WriteWatcher> watcher,
                 std::unique_ptr<sandbox::WriteCapture> capture)
      : capture_(std::move(capture)), sandbox_(std::move(s)), watcher_(std::move(watcher)) {}
  // ~Sandbox kills the pid namespace and reaps PID 1 if still running.
  int wait_fd() const override { return sandbox_.pidfd(); }
  base::Result<sandbox::ExitInfo> Collect() override { return sandbox_.Wait(); }
  // SIGKILL to PID 1 ends the whole pid namespace at once: nothing of the
  // sub-phase survives, so closing its jobserver lease afterwards is safe.
  void Kill() override { sandbox_.Signal(SIGKILL); }
  pid_t pid() const override { return sandbox_.pid(); }

  int notify_fd() const override { return watcher_ ? sandbox_.notify_fd() : -1; }
  bool HandleNotification() override {
    return watcher_ && watcher_->HandleOne(sandbox_.notify_fd());
  }
  WriteRecord TakeWrites() override {
    if (!watcher_) return {};
    // The sandbox is gone: what it captured can be copied out now.
    if (capture_) {
      if (auto st = capture_->Finish(); !st)
        spdlog::warn("{}", base::EscapeLine(st.error().Message()));
    }
    bool captured = capture_ && !capture_->captured().empty();
    return {true, watcher_->notifications(), watcher_->violations(),
            watcher_->violations_not_kept(), captured ? capture_->dir() : ""};
  }

 private:
  // Destroyed last: the watcher may use it until the sandbox is gone.
  std::unique_ptr<sandbox::WriteCapture> capture_;
  sandbox::Sandbox sandbox_;
  std::unique_ptr<sandbox::WriteWatcher> watcher_;
};

}  // namespace

std::pair<uid_t, gid_t> MappedHostIds(const sandbox::SandboxSpec& spec) {
  return {spec.ids.CommandHostUid(), spec.ids.CommandHostGid()};
}

base::Result<std::pair<uid_t, gid_t>> MappedHostIds(const sandbox::Policy& policy) {
  NSB_ASSIGN_OR_RETURN(sandbox::IdMapping ids, sandbox::PolicyIdMapping(policy));
  return std::make_pair(ids.CommandHostUid(), ids.CommandHostGid());
}

base::Result<std::unique_ptr<RunningCommand>> SandboxRunner::Start(const SubPhase& node,
                                                                   int output_fd,
                                                                   const Lease& lease) {
  const std::string& target = plan_.targets[node.target];
  if (!prepared_targets_.count(node.target)) {
    // The directories must exist before planning (bind sources are checked)
    // and belong to the mapped ids.
    NSB_ASSIGN_OR_RETURN(auto ids, MappedHostIds(policy_));
    NSB_TRY(ctx_.work->CreateTarget(target, ids.first, ids.second));
    prepared_targets_.insert(node.target);
  }
  // A build limited to one job (-j1, verify's num_cpus) gets no lease: its
  // make runs one job on the sub-phase's own slot.
  PhaseJobserver js = ctx_.jobs == 1 ? PhaseJobserver{" -j1", {}, ""}
                                     : PhaseJobserver{lease.MakeFlags(ctx_.load_average),
                                                      lease.pass_fds(), lease.fifo_path()};
  sandbox::RunRequest req = MakePhaseRequest(ctx_, plan_, node, output_fd, js);
  auto spec = sandbox::PlanSandbox(policy_, req);
  if (!spec.ok()) return base::Wrap(spec.take_error(), "plan sandbox for " + plan_.NameOf(node));
  spec->watch_writes = watch_writes_;
  std::unique_ptr<sandbox::WriteWatcher> watcher;
  // The writable places of this very plan: D, BUILD_DIR, the source
  // overlay, T, HOME, the private tmpfs mounts and the recipe's addwrite.
  if (watch_writes_)
    watcher = std::make_unique<sandbox::WriteWatcher>(sandbox::WritableRoots(*spec));
  std::unique_ptr<sandbox::WriteCapture> capture;
  if (watcher && !capture_root_.empty()) {
    auto c = sandbox::WriteCapture::Open(capture_root_ + "/" + target + "-" + node.PhaseName(),
                                         policy_.tmpfs_size);
    if (!c.ok()) return base::Wrap(c.take_error(), "capture dir for " + plan_.NameOf(node));
    capture = std::make_unique<sandbox::WriteCapture>(std::move(c).value());
    watcher->set_capture(capture.get());
  }
  auto started = sandbox::Sandbox::Start(*spec);
  if (!started.ok())
    return base::Wrap(started.take_error(), "start sandbox for " + plan_.NameOf(node));
  return std::unique_ptr<RunningCommand>(
      new SandboxCommand(std::move(started).value(), std::move(watcher), std::move(capture)));
}

}  // namespace nsbuild::builder
