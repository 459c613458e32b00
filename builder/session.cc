#include "builder/session.h"

#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <limits>

#include "base/clock.h"
#include "base/dir_fd.h"
#include "base/escape.h"

namespace nsbuild::builder {
namespace {

// Every member's plan, one after the other; a named member's targets are
// MEMBER/TARGET, so its logs land in LOG_DIR/MEMBER.
Plan Combine(const std::vector<SessionMember>& members, std::vector<size_t>& first_node) {
  Plan all;
  for (const auto& m : members) {
    size_t target0 = all.targets.size();
    first_node.push_back(all.nodes.size());
    for (const auto& t : m.plan->targets)
      all.targets.push_back(m.name.empty() ? t : m.name + "/" + t);
    for (SubPhase s : m.plan->nodes) {
      s.id += first_node.back();
      s.target += target0;
      for (auto& d : s.deps) d += first_node.back();
      all.nodes.push_back(std::move(s));
    }
  }
  return all;
}

// Hands each sub-phase of the combined plan to its own member's runner, as
// the member's own node.
class MemberDispatch : public CommandRunner {
 public:
  MemberDispatch(const std::vector<SessionMember>& members, const std::vector<size_t>& first_node)
      : members_(members), first_node_(first_node) {}
  base::Result<std::unique_ptr<RunningCommand>> Start(const SubPhase& node, int output_fd,
                                                      const Lease& lease) override {
    size_t i = 0;
    while (i + 1 < members_.size() && first_node_[i + 1] <= node.id) ++i;
    const SessionMember& m = members_[i];
    return m.runner->Start(m.plan->nodes[node.id - first_node_[i]], output_fd, lease);
  }

 private:
  const std::vector<SessionMember>& members_;
  const std::vector<size_t>& first_node_;
};

std::string NodeError(const Plan& all, size_t id, const NodeResult& n) {
  std::string why = n.error.empty() ? StateName(n.state) : n.error;
  std::string out = all.NameOf(all.nodes[id]) + ": " + why;
  return n.log_path.empty() ? out : out + " (log: " + n.log_path + ")";
}

MemberResult Collect(const SessionMember& m, size_t first, const Plan& all, const RunSummary& s) {
  MemberResult r;
  r.name = m.name;
  r.first_node = first;
  r.ok = !s.interrupted;
  r.start = std::numeric_limits<double>::max();
  std::string other;
  for (size_t id = first; id < first + m.plan->nodes.size(); ++id) {
    const NodeResult& n = s.nodes[id];
    if (n.state != NodeState::kWaiting && n.state != NodeState::kSkipped) {
      r.start = std::min(r.start, n.start);
      r.end = std::max(r.end, n.end);
    }
    if (n.state == NodeState::kSucceeded) continue;
    r.ok = false;
    // The sub-phase that failed explains more than those it stopped.
    if (n.state == NodeState::kFailed && !r.failed) r.error = NodeError(all, id, n);
    r.failed = r.failed || n.state == NodeState::kFailed;
    if (other.empty()) other = NodeError(all, id, n);
  }
  if (r.error.empty()) r.error = s.interrupted ? "interrupted" : other;
  if (r.start > r.end) r.start = r.end;
  return r;
}

}  // namespace

int LocalCpus() { return static_cast<int>(std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN))); }

int DefaultJobs(int remote_slots) { return LocalCpus() + remote_slots; }

bool SessionResult::AllOk() const {
  for (const auto& m : members) {
    if (!m.ok) return false;
  }
  return interrupted_by == 0;
}

const MemberResult* SessionResult::Culprit() const {
  for (bool failed : {true, false}) {
    for (const auto& m : members) {
      if (!m.ok && m.failed == failed) return &m;
    }
  }
  return nullptr;
}

base::Result<std::unique_ptr<Session>> Session::Open(const SessionOptions& o) {
  std::unique_ptr<Session> s(new Session(o));
  // First: a Ctrl-C from here on stops the run (StopSignals: the scheduler
  // reads the pipe before it starts anything).
  NSB_ASSIGN_OR_RETURN(s->stop_, StopSignals::Install());
  if (o.fifo) {
    // Ours, fresh, not writable by the sandboxes: only each fifo is theirs.
    auto fifo = JobServer::CreateFifoAt(o.jobs, base::BorrowedFd(o.fifo->dir_fd), "jobserver",
                                        o.fifo->dir_path + "/jobserver", o.fifo->inside_path,
                                        o.fifo->uid, o.fifo->gid);
    if (fifo.ok()) {
      s->jobs_ = std::move(fifo).value();
      s->jobs_->set_fifo_as_descriptors(o.fifo->as_descriptors);
    } else if (!o.fifo->or_pipe) {
      return fifo.take_error();
    } else {
      spdlog::warn("no compiler launcher: {}", base::EscapeLine(fifo.error().Message()));
    }
  }
  if (!s->jobs_) {
    NSB_ASSIGN_OR_RETURN(s->jobs_, JobServer::Create(o.jobs));
  }
  s->devnull_.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!s->devnull_) return base::ErrnoError("open /dev/null");
  return s;
}

base::Result<SessionResult> Session::Run(
    const std::vector<SessionMember>& members,
    const std::function<void(SchedulerOptions&, const Plan&)>& configure) {
  if (members.empty()) return base::PlainError("no builds to run");
  for (const auto& m : members) {
    if (m.name.empty() || options_.log_dir_fd < 0) continue;
    // LOG_DIR is ours, fresh; each member's directory is made afresh in it.
    auto dir = base::MakeFreshDirAt(base::BorrowedFd(options_.log_dir_fd), m.name, 0755);
    if (!dir.ok()) return base::Wrap(dir.take_error(), options_.log_dir);
  }
  SessionResult out;
  std::vector<size_t> first_node;
  out.plan = Combine(members, first_node);
  MemberDispatch dispatch(members, first_node);
  std::unique_ptr<StatusPrinter> own;
  StatusPrinter* printer = options_.printer;
  if (!printer) {
    own = MakeStatusPrinter(options_.verbosity, IsSmartTerminal(STDERR_FILENO), stderr);
    printer = own.get();
  }
  SchedulerOptions so{options_.failure_mode, options_.load_average, options_.timeout_seconds,
                      stop_->read_fd(), options_.log_dir};
  so.log_dir_fd = options_.log_dir_fd;
  so.write_violations_fail = options_.write_violations_fail;
  if (options_.decorate) options_.decorate(so, out.plan);
  if (configure) configure(so, out.plan);
  out.started = base::MonotonicSeconds();
  out.summary = Scheduler(out.plan, dispatch, *jobs_, *printer, so).Run();
  out.jobs = jobs_->jobs();
  if (out.summary.interrupted) out.interrupted_by = caught() ? caught() : SIGINT;
  for (size_t i = 0; i < members.size(); ++i)
    out.members.push_back(Collect(members[i], first_node[i], out.plan, out.summary));
  return out;
}

}  // namespace nsbuild::builder
