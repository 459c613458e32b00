#include "builder/critical_path.h"

#include <algorithm>
#include <cstdio>
#include <numeric>

namespace nsbuild::builder {
namespace {

bool Ran(const NodeResult& r) {
  return r.state != NodeState::kWaiting && r.state != NodeState::kSkipped;
}

// The longest path ending at each node (forward, plan ids are topological)
// and, per node, the dependency it came through.
void LongestEnding(const Plan& plan, const std::vector<double>& seconds,
                   std::vector<double>* finish, std::vector<size_t>* via) {
  size_t n = plan.nodes.size();
  finish->assign(n, 0);
  via->assign(n, n);
  for (const auto& node : plan.nodes) {
    double before = 0;
    for (size_t d : node.deps) {
      if ((*via)[node.id] == n || (*finish)[d] > before) {
        before = (*finish)[d];
        (*via)[node.id] = d;
      }
    }
    (*finish)[node.id] = before + seconds[node.id];
  }
}

}  // namespace

double DefaultEstimate(int phase) {
  static constexpr double kSeconds[] = {2.0, 10.0, 4.0, 2.0};  // configure compile test install
  return phase >= 0 && phase < 4 ? kSeconds[phase] : 1.0;
}

Estimates Estimate(const Plan& plan, const History& history, const std::string& recipe) {
  Estimates e;
  e.seconds.reserve(plan.nodes.size());
  for (const auto& node : plan.nodes) {
    const PhaseTimes* t = history.Find(recipe, plan.targets[node.target], node.PhaseName());
    e.seconds.push_back(t ? t->wall_seconds : DefaultEstimate(node.phase));
    if (t) ++e.from_history;
  }
  return e;
}

std::vector<double> Priorities(const Plan& plan, const std::vector<double>& seconds) {
  std::vector<double> p = seconds;
  // Backwards: a node's dependents have higher ids, so p[i] is final when
  // i is reached.
  for (size_t i = plan.nodes.size(); i-- > 0;) {
    for (size_t d : plan.nodes[i].deps) p[d] = std::max(p[d], seconds[d] + p[i]);
  }
  return p;
}

std::vector<size_t> StartOrder(const std::vector<double>& priorities) {
  std::vector<size_t> order(priorities.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return priorities[a] > priorities[b]; });
  return order;
}

double Bound::Seconds() const {
  return std::max(jobs > 0 ? cpu_seconds / jobs : cpu_seconds, chain_seconds);
}

double Bound::Efficiency() const { return wall_seconds > 0 ? Seconds() / wall_seconds : 0; }

Bound MeasureBound(const Plan& plan, const RunSummary& summary) {
  Bound b;
  b.jobs = summary.jobs;
  b.wall_seconds = summary.wall_seconds;
  std::vector<double> seconds(plan.nodes.size(), 0);
  for (const auto& node : plan.nodes) {
    const NodeResult& r = summary.nodes[node.id];
    if (!Ran(r)) continue;
    seconds[node.id] = std::max(0.0, r.end - r.start);
    b.cpu_seconds += r.exit.user_seconds + r.exit.sys_seconds;
  }
  std::vector<double> finish;
  std::vector<size_t> via;
  LongestEnding(plan, seconds, &finish, &via);
  if (finish.empty()) return b;
  size_t last =
      static_cast<size_t>(std::max_element(finish.begin(), finish.end()) - finish.begin());
  b.chain_seconds = finish[last];
  for (size_t i = last; i < plan.nodes.size(); i = via[i]) b.chain.insert(b.chain.begin(), i);
  return b;
}

std::string DescribeBound(const Plan& plan, const Bound& b) {
  std::string chain;
  for (size_t id : b.chain) chain += (chain.empty() ? "" : " → ") + plan.NameOf(plan.nodes[id]);
  char buf[256];
  std::snprintf(
      buf, sizeof buf,
      "bound %.1fs = max(CPU %.1fs / %d job(s) = %.1fs, longest chain %.1fs: ", b.Seconds(),
      b.cpu_seconds, b.jobs, b.jobs > 0 ? b.cpu_seconds / b.jobs : 0.0, b.chain_seconds);
  std::string out = buf + chain;
  std::snprintf(buf, sizeof buf, "); wall %.1fs, the bound is %.0f%% of it", b.wall_seconds,
                100 * b.Efficiency());
  return out + buf;
}

}  // namespace nsbuild::builder
