#include "builder/report.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/fs.h"
#include "base/json_reader.h"
#include "builder/critical_path.h"
#include "builder/diagnose.h"

namespace nsbuild::builder {
namespace {

using nlohmann::json;

const char* Verdict(const RunSummary& s) {
  if (s.interrupted) return "interrupted";
  return s.AllSucceeded() ? "ok" : "failed";
}

json SubPhaseJson(const Plan& plan, const SubPhase& node, const NodeResult& r) {
  json j = {{"target", plan.targets[node.target]},
            {"phase", node.PhaseName()},
            {"state", StateName(r.state)}};
  if (r.state == NodeState::kWaiting || r.state == NodeState::kSkipped) {
    if (!r.error.empty()) j["error"] = r.error;
    return j;
  }
  j["start_seconds"] = r.start;
  j["end_seconds"] = r.end;
  j["exit_status"] = r.exit.ExitStatus();
  if (r.exit.signaled) j["signal"] = r.exit.signal;
  // 128+N from the phase's shell: the signal killed a process it ran.
  if (int sig = r.exit.signaled ? 0 : ShellChildSignal(r.exit.code)) {
    j["child_signal"] = sig;
    j["child_signal_name"] = SignalName(sig);
  }
  if (!r.diagnosis.empty()) j["diagnosis"] = r.diagnosis;
  j["timed_out"] = r.timed_out;
  j["user_seconds"] = r.exit.user_seconds;
  j["sys_seconds"] = r.exit.sys_seconds;
  j["max_rss_kib"] = r.exit.max_rss_kib;
  if (!r.log_path.empty()) j["log"] = r.log_path;
  if (!r.error.empty()) j["error"] = r.error;
  if (r.writes.watched) {
    j["writes"] = {{"notifications", r.writes.notifications},
                   {"violations", ViolationsJson(r.writes.violations)},
                   {"violations_not_kept", r.writes.violations_not_kept}};
    if (!r.writes.capture_dir.empty()) j["writes"]["capture_dir"] = r.writes.capture_dir;
  }
  return j;
}

json WritesJson(const ReportInput& in) {
  json addwrite = json::array();
  for (const auto& a : in.addwrite) addwrite.push_back({{"path", a.path}, {"reason", a.reason}});
  json home = json::object();
  for (size_t t = 0; t < in.home_leftovers.size() && t < in.plan->targets.size(); ++t) {
    json list = json::array();
    for (const auto& l : in.home_leftovers[t]) {
      list.push_back({{"path", l.path}, {"files", l.files}, {"bytes", l.bytes}});
    }
    if (!list.empty()) home[in.plan->targets[t]] = list;
  }
  uint64_t notifications = 0;
  for (const auto& n : in.summary->nodes) notifications += n.writes.notifications;
  return {{"watched", !in.on_violation.empty()},
          {"on_violation", in.on_violation},
          {"notifications", notifications},
          {"violations", in.summary->WriteViolationCount()},
          {"addwrite", addwrite},
          {"home_leftovers", home}};
}

json StepsJson(const std::vector<StepRecord>& steps) {
  json out = json::array();
  for (const auto& s : steps) out.push_back(StepJson(s));
  return out;
}

// The unpack runs before the sub-phases' clock starts: the trace shifts
// every event so the first starts at 0 (trace viewers expect no negative ts).
double TraceShift(const std::vector<StepRecord>& steps) {
  double earliest = 0;
  for (const auto& s : steps) earliest = std::min(earliest, s.start);
  return -earliest;
}

int64_t Micros(double seconds) { return static_cast<int64_t>(seconds * 1e6); }

// The steps on a thread of their own, after the targets'.
void AddStepEvents(const ReportInput& in, double shift, json& events) {
  if (in.steps.empty()) return;
  size_t tid = in.plan->targets.size() + 1;
  events.push_back({{"name", "thread_name"},
                    {"ph", "M"},
                    {"pid", 1},
                    {"tid", tid},
                    {"args", {{"name", "nsbuild"}}}});
  for (const auto& s : in.steps) {
    json args = StepJson(s);
    args.erase("start_seconds");
    args.erase("end_seconds");
    events.push_back({{"name", s.name},
                      {"cat", s.ok ? "ok" : "failed"},
                      {"ph", "X"},
                      {"pid", 1},
                      {"tid", tid},
                      {"ts", Micros(s.start + shift)},
                      {"dur", Micros(s.end - s.start)},
                      {"args", args}});
  }
}

// How close the run got to what N jobs allow at all (critical_path.h).
json BoundJson(const Plan& plan, const Bound& b) {
  json chain = json::array();
  for (size_t id : b.chain) chain.push_back(plan.NameOf(plan.nodes[id]));
  return {{"seconds", b.Seconds()},
          {"cpu_seconds", b.cpu_seconds},
          {"cpu_per_job_seconds", b.jobs > 0 ? b.cpu_seconds / b.jobs : b.cpu_seconds},
          {"longest_chain_seconds", b.chain_seconds},
          {"longest_chain", chain},
          {"wall_seconds", b.wall_seconds},
          {"bound_over_wall", b.Efficiency()}};
}

}  // namespace

json ViolationsJson(const std::vector<sandbox::WriteViolation>& violations) {
  json out = json::array();
  for (const auto& v : violations) {
    out.push_back({{"op", v.op},
                   {"path", v.path},
                   {"pid", v.pid},
                   {"command", v.command},
                   {"captured", v.captured}});
  }
  return out;
}

std::string ReportJson(const ReportInput& in) {
  const RunSummary& s = *in.summary;
  json subs = json::array();
  for (const auto& node : in.plan->nodes)
    subs.push_back(SubPhaseJson(*in.plan, node, s.nodes[node.id]));
  json images = json::array();
  for (const auto& img : in.images) {
    images.push_back(
        {{"target", img.target}, {"path", img.path}, {"files", img.files}, {"bytes", img.bytes}});
  }
  json j = {
      {"package", {{"name", in.package}, {"version", in.version}}},
      {"result", Verdict(s)},
      {"jobs", s.jobs},
      {"wall_seconds", s.wall_seconds},
      {"work_dir", in.work_dir},
      {"targets", in.plan->targets},
      {"sub_phases", subs},
      {"images", images},
      {"jobserver",
       {{"jobs", s.jobs},
        {"peak_tokens_in_use", s.peak_tokens_in_use},
        {"tokens_recovered", s.tokens_recovered},
        {"peak_processes", s.peak_processes},
        {"peak_compilers", s.peak_compilers}}},
      {"bound", BoundJson(*in.plan, MeasureBound(*in.plan, s))},
      {"builder_max_rss_kib", in.builder_max_rss_kib},
      {"writes", WritesJson(in)},
      {"steps", StepsJson(in.steps)},
      {"warnings", in.warnings},
  };
  if (in.distcc) {
    const DistccSummary& d = *in.distcc;
    j["distcc"] = {{"hosts", d.hosts},
                   {"remote_compiles", d.compiles.remote},
                   {"local_compiles", d.compiles.local},
                   {"daemon_connections", d.connections},
                   {"daemon_connection_failures", d.connection_failures}};
  }
  return base::DumpJson(j, 2) + "\n";
}

// Chrome trace event format: "M" events name the process and one thread per
// target; each sub-phase is a complete ("X") event in microseconds.
std::string TraceJson(const ReportInput& in) {
  json events = json::array();
  events.push_back({{"name", "process_name"},
                    {"ph", "M"},
                    {"pid", 1},
                    {"args", {{"name", "nsbuild " + in.package + "-" + in.version}}}});
  for (size_t t = 0; t < in.plan->targets.size(); ++t) {
    events.push_back({{"name", "thread_name"},
                      {"ph", "M"},
                      {"pid", 1},
                      {"tid", t + 1},
                      {"args", {{"name", in.plan->targets[t]}}}});
  }
  double shift = TraceShift(in.steps);
  for (const auto& node : in.plan->nodes) {
    const NodeResult& r = in.summary->nodes[node.id];
    if (r.state == NodeState::kWaiting || r.state == NodeState::kSkipped) continue;
    events.push_back({{"name", node.PhaseName()},
                      {"cat", StateName(r.state)},
                      {"ph", "X"},
                      {"pid", 1},
                      {"tid", node.target + 1},
                      {"ts", Micros(r.start + shift)},
                      {"dur", Micros(r.end - r.start)},
                      {"args",
                       {{"exit_status", r.exit.ExitStatus()},
                        {"user_seconds", r.exit.user_seconds},
                        {"max_rss_kib", r.exit.max_rss_kib}}}});
  }
  AddStepEvents(in, shift, events);
  return base::DumpJson(json({{"traceEvents", events}, {"displayTimeUnit", "ms"}})) + "\n";
}

base::Status WriteReport(const std::string& path, const ReportInput& in) {
  return base::WriteFileAtomic(path, ReportJson(in));
}

base::Status WriteTrace(const std::string& path, const ReportInput& in) {
  return base::WriteFileAtomic(path, TraceJson(in));
}

}  // namespace nsbuild::builder
