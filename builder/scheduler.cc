#include "builder/scheduler.h"

#include <fcntl.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>

#include "base/clock.h"
#include "base/dir_fd.h"
#include "base/fs.h"
#include "builder/write_report.h"
#include "sandbox/write_watch.h"

namespace nsbuild::builder {
namespace {

// Short enough for a live status line and timeouts to feel immediate, long
// enough that an idle builder costs nothing measurable.
constexpr int kTickMillis = 100;
// While the pool has tokens to hand out, a make may be waiting for one in
// its lease's pipe, and only a look at the pipe tells: look often.
constexpr int kHungryTickMillis = 20;

bool Done(NodeState s) {
  return s == NodeState::kSucceeded || s == NodeState::kFailed || s == NodeState::kSkipped ||
         s == NodeState::kStopped;
}

std::string DescribeExit(const sandbox::ExitInfo& e) {
  if (e.setup_failure) return e.setup_failure->Message();
  if (e.signaled) return "killed by signal " + std::to_string(e.signal);
  return "exit status " + std::to_string(e.code);
}

}  // namespace

// Members are destroyed bottom-up: the command (killed and reaped) goes
// before its lease and its token, so no token or slot is free while a
// process that could hold it still runs.
struct Scheduler::Running {
  size_t node = 0;
  Token token;
  std::unique_ptr<Lease> lease;  // closed after the command is reaped
  std::unique_ptr<RunningCommand> cmd;
  base::UniqueFd output;
  base::UniqueFd log;
  double deadline = 0;
  bool timed_out = false;
  bool stopped = false;
  bool watching = false;  // the write watcher's listener is still open
};

Scheduler::Scheduler(const Plan& plan, CommandRunner& runner, JobServer& jobs,
                     StatusPrinter& status, SchedulerOptions options)
    : plan_(plan), runner_(runner), jobs_(jobs), status_(status), options_(std::move(options)) {}

Scheduler::~Scheduler() = default;

double Scheduler::Now() const { return base::MonotonicSeconds() - t0_; }

RunSummary Scheduler::Run() {
  t0_ = Now();
  summary_ = RunSummary();
  summary_.nodes.resize(plan_.nodes.size());
  summary_.jobs = jobs_.jobs();
  target_failed_.assign(plan_.targets.size(), false);
  status_.RunStarted(plan_, jobs_.jobs());
  // A stop that came before the run (while the callers copied sources)
  // starts nothing.
  if (options_.stop_fd >= 0) {
    pollfd stop = {options_.stop_fd, POLLIN, 0};
    if (::poll(&stop, 1, 0) > 0 && (stop.revents & POLLIN)) StopAll(true);
  }
  for (;;) {
    // A sub-phase that fails to start settles at once and may unblock or
    // skip others, so repeat until something runs or nothing changes.
    size_t settled;
    do {
      settled = settled_;
      if (stopping_) break;
      SkipBlocked();
      StartReady();
    } while (running_.empty() && settled != settled_);
    if (running_.empty()) break;
    PollOnce();
  }
  summary_.tokens_recovered = jobs_.recovered();
  summary_.wall_seconds = Now();
  summary_.peak_tokens_in_use = jobs_.peak_in_use();
  if (options_.observer) options_.observer->Finish(summary_);
  status_.RunFinished(summary_);
  return summary_;
}

bool Scheduler::DepSatisfied(const SubPhase& node, size_t dep) const {
  NodeState s = summary_.nodes[dep].state;
  size_t dep_target = plan_.nodes[dep].target;
  // Another target's work is only usable if that whole target is sound.
  if (dep_target != node.target && target_failed_[dep_target]) return false;
  if (s == NodeState::kSucceeded) return true;
  // --keep-going carries a target on past its own failures, never into the
  // `all` phases or another target.
  return options_.failure_mode == FailureMode::kKeepGoing && s == NodeState::kFailed &&
         plan_.nodes[dep].target == node.target;
}

bool Scheduler::Startable(const SubPhase& node) const {
  if (summary_.nodes[node.id].state != NodeState::kWaiting) return false;
  for (size_t d : node.deps) {
    if (!DepSatisfied(node, d)) return false;
  }
  return true;
}

// Plan ids are topological, so one pass in id order propagates skips.
void Scheduler::SkipBlocked() {
  for (const auto& node : plan_.nodes) {
    NodeResult& res = summary_.nodes[node.id];
    if (res.state != NodeState::kWaiting) continue;
    for (size_t d : node.deps) {
      if (Done(summary_.nodes[d].state) && !DepSatisfied(node, d)) {
        res.state = NodeState::kSkipped;
        res.error = "not run: " + plan_.NameOf(plan_.nodes[d]) + " did not succeed";
        break;
      }
    }
  }
}

bool Scheduler::LoadTooHigh() const {
  if (options_.load_average <= 0) return false;
  if (options_.load_probe) return options_.load_probe() > options_.load_average;
  double load[1];
  return ::getloadavg(load, 1) == 1 && load[0] > options_.load_average;
}

void Scheduler::StartReady() {
  const std::vector<size_t>& order = options_.start_order;
  for (size_t k = 0; k < plan_.nodes.size(); ++k) {
    const SubPhase& node = plan_.nodes[order.size() == plan_.nodes.size() ? order[k] : k];
    if (!Startable(node)) continue;
    // Like ninja's -l: above the limit nothing new starts, but one job always
    // runs so the build cannot stall.
    if (!running_.empty() && LoadTooHigh()) return;
    Token token = jobs_.TryAcquire();
    if (!token.valid()) return;
    Start(node, std::move(token));
    if (stopping_) return;
  }
}

bool Scheduler::Start(const SubPhase& node, Token token) {
  NodeResult& res = summary_.nodes[node.id];
  res.start = res.end = Now();
  Running r;
  r.node = node.id;
  r.token = std::move(token);
  if (options_.log_dir_fd >= 0) {
    std::string rel = plan_.targets[node.target] + "-" + node.PhaseName() + ".log";
    res.log_path = options_.log_dir + "/" + rel;
    auto fd = base::OpenBeneath(base::BorrowedFd(options_.log_dir_fd), rel,
                                O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd.ok()) {
      r.log = std::move(*fd);
    } else {
      spdlog::warn("open {}: {}", res.log_path, fd.error().Message());
    }
    if (r.log && options_.log_header) (void)base::WriteAll(r.log, options_.log_header(node));
  }
  auto pipe = base::MakePipe(O_CLOEXEC);
  auto lease = jobs_.OpenLease();
  base::Result<std::unique_ptr<RunningCommand>> cmd =
      !pipe.ok()    ? base::Result<std::unique_ptr<RunningCommand>>(pipe.error())
      : !lease.ok() ? base::Result<std::unique_ptr<RunningCommand>>(lease.error())
                    : runner_.Start(node, pipe->write.get(), **lease);
  if (!cmd.ok()) {
    res.state = NodeState::kFailed;
    res.error = cmd.error().Message();
    if (r.log) (void)base::WriteAll(r.log, "nsbuild: could not start: " + res.error + "\n");
    status_.NodeFinished(node, res);
    Fail(node);
    return false;
  }
  pipe->write.reset();  // only the command may hold the write end now
  ::fcntl(pipe->read.get(), F_SETFL, O_NONBLOCK);
  r.output = std::move(pipe->read);
  r.lease = std::move(lease).value();
  r.cmd = std::move(cmd).value();
  r.watching = r.cmd->notify_fd() >= 0;
  r.deadline = options_.timeout_seconds > 0 ? res.start + options_.timeout_seconds : 0;
  res.state = NodeState::kRunning;
  status_.NodeStarted(node);
  running_.push_back(std::move(r));
  return true;
}

// Per running sub-phase three fds: its end, its output, its write watcher.
// Watched calls are answered first: a process waiting on one is stopped.
void Scheduler::PollOnce() {
  // Leases are topped up here, after StartReady had its turn: a slot a
  // finished sub-phase gave back goes to the next sub-phase first. Topped up
  // before, it would land in a lease where a compiler launcher or make is
  // blocked reading, be taken at once, and the next sub-phase of the
  // critical chain would wait for that job to end.
  jobs_.Balance();
  std::vector<pollfd> fds;
  if (options_.stop_fd >= 0 && !stopping_) fds.push_back({options_.stop_fd, POLLIN, 0});
  size_t first = fds.size();
  for (const auto& r : running_) {
    fds.push_back({r.cmd->wait_fd(), POLLIN, 0});
    fds.push_back({r.output ? r.output.get() : -1, POLLIN, 0});
    fds.push_back({r.watching ? r.cmd->notify_fd() : -1, POLLIN, 0});
  }
  int n = ::poll(fds.data(), fds.size(), jobs_.Hungry() ? kHungryTickMillis : kTickMillis);
  if (n < 0 && errno != EINTR) spdlog::error("poll: {}", std::strerror(errno));
  if (n > 0 && first == 1 && (fds[0].revents & POLLIN)) StopAll(true);
  for (size_t i = 0; n > 0 && i < running_.size(); ++i) {
    short watch = fds[first + 3 * i + 2].revents;
    if (watch & POLLIN) {
      running_[i].watching = running_[i].cmd->HandleNotification();
    } else if (watch & (POLLHUP | POLLERR | POLLNVAL)) {
      running_[i].watching = false;  // every watched process is gone
    }
    if (fds[first + 3 * i + 1].revents & (POLLIN | POLLHUP)) ReadOutput(running_[i]);
  }
  // Backwards, so erasing a finished entry keeps the remaining indices valid.
  for (size_t i = running_.size(); n > 0 && i-- > 0;) {
    if (fds[first + 3 * i].revents & (POLLIN | POLLHUP | POLLERR)) Finish(i);
  }
  CheckTimeouts();
  jobs_.Sample();
  if (options_.observer) options_.observer->Tick(RunningPids());
  status_.Tick();
}

std::vector<RunningPid> Scheduler::RunningPids() const {
  std::vector<RunningPid> out;
  for (const auto& r : running_) out.push_back({r.node, r.cmd->pid()});
  return out;
}

void Scheduler::ReadOutput(Running& r) {
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(r.output.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) r.output.reset();  // every writer is gone
    if (n <= 0) return;
    std::string_view text(buf, static_cast<size_t>(n));
    if (r.log) (void)base::WriteAll(r.log, text);
    status_.NodeOutput(plan_.nodes[r.node], text);
  }
}

void Scheduler::Finish(size_t index) {
  Running r = std::move(running_[index]);
  running_.erase(running_.begin() + static_cast<long>(index));
  const SubPhase& node = plan_.nodes[r.node];
  NodeResult& res = summary_.nodes[r.node];
  auto exit = r.cmd->Collect();
  if (r.output) ReadOutput(r);  // the rest: every writer died with the sandbox
  res.end = Now();
  res.timed_out = r.timed_out;
  if (!exit.ok()) {
    res.state = NodeState::kFailed;
    res.error = exit.error().Message();
  } else {
    res.exit = *exit;
    Judge(r, res);
  }
  res.writes = r.cmd->TakeWrites();
  if (res.state == NodeState::kSucceeded && res.writes.ViolationCount() > 0 &&
      options_.write_violations_fail) {
    res.state = NodeState::kFailed;
    res.error = std::to_string(res.writes.ViolationCount()) +
                " write(s) outside the allowed roots were denied (see the summary)";
  }
  if (r.log && res.writes.ViolationCount() > 0) {
    (void)base::WriteAll(
        r.log, FormatViolationLines(res.writes.violations, res.writes.violations_not_kept));
  }
  if (r.log && !res.error.empty()) (void)base::WriteAll(r.log, "nsbuild: " + res.error + "\n");
  if (res.state == NodeState::kFailed && options_.diagnose) {
    options_.diagnose(node, res);
    for (const auto& d : res.diagnosis) {
      if (r.log) (void)base::WriteAll(r.log, "nsbuild: " + d + "\n");
    }
  }
  r.cmd.reset();
  r.lease.reset();
  r.token.Release();
  status_.NodeFinished(node, res);
  if (res.state == NodeState::kFailed) Fail(node);
}

void Scheduler::Judge(Running& r, NodeResult& res) {
  bool ok = res.exit.ExitStatus() == 0 && !r.timed_out;
  res.state = ok ? NodeState::kSucceeded : r.stopped ? NodeState::kStopped : NodeState::kFailed;
  if (r.timed_out) {
    res.error =
        "timed out after " + std::to_string(static_cast<int>(options_.timeout_seconds)) + "s";
  } else if (!ok) {
    res.error = r.stopped ? "stopped" : DescribeExit(res.exit);
  }
}

void Scheduler::Fail(const SubPhase& node) {
  ++settled_;
  target_failed_[node.target] = true;
  spdlog::debug("{} failed", plan_.NameOf(node));
  if (options_.failure_mode == FailureMode::kFailFast && !stopping_) {
    summary_.fail_fast_stopped = true;
    StopAll(false);
  }
}

void Scheduler::StopAll(bool interrupted) {
  if (interrupted) {
    summary_.interrupted = true;
    spdlog::warn("interrupted: stopping {} running sub-phase(s)", running_.size());
  }
  stopping_ = true;
  for (auto& r : running_) {
    r.stopped = true;
    r.cmd->Kill();
  }
}

void Scheduler::CheckTimeouts() {
  double now = Now();
  for (auto& r : running_) {
    if (r.deadline > 0 && !r.timed_out && now >= r.deadline) {
      r.timed_out = true;
      r.cmd->Kill();
    }
  }
}

}  // namespace nsbuild::builder
