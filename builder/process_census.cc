#include "builder/process_census.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "base/clock.h"
#include "base/unique_fd.h"

namespace nsbuild::builder {
namespace {

// "PID (COMM) STATE PPID ... NICE ...": the name may hold spaces and ')',
// so the fields after it start at the last ')'.
bool ParseStat(const std::string& text, ProcInfo* out) {
  size_t open = text.find('('), close = text.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open) return false;
  out->comm = text.substr(open + 1, close - open - 1);
  std::istringstream rest(text.substr(close + 1));
  std::vector<std::string> f;
  std::string w;
  while (f.size() < 17 && rest >> w) f.push_back(w);
  if (f.size() < 17) return false;
  out->ppid = static_cast<pid_t>(std::atol(f[1].c_str()));
  out->nice = std::atoi(f[16].c_str());  // field 19 of proc(5)
  return true;
}

bool ReadStat(int proc_fd, const char* pid, ProcInfo* out) {
  std::string name = std::string(pid) + "/stat";
  base::UniqueFd fd(::openat(proc_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return false;  // gone meanwhile
  char buf[1024];
  ssize_t n = ::read(fd.get(), buf, sizeof buf);
  return n > 0 && ParseStat(std::string(buf, static_cast<size_t>(n)), out);
}

// With CONFIG_SCHED_AUTOGROUP (Debian's default) every session is its own
// scheduling group, and a process's nice value only ranks it inside its
// group. Each sandbox calls setsid, so between sub-phases only the group's
// nice counts: it is set too, through /proc/PID/autogroup of the session
// leader (a kernel file of a process we started; a write that fails, as
// lowering does without CAP_SYS_NICE, changes nothing).
void SetAutogroupNice(pid_t leader, int nice) {
  if (::getsid(leader) != leader) return;  // not a session of its own
  std::string path = "/proc/" + std::to_string(leader) + "/autogroup";
  base::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return;
  // "/autogroup-123 nice 0": the kernel allows a change only every 100 ms
  // (EAGAIN), so none is spent on a value already set; a refused one is
  // tried again on a later turn.
  char buf[128];
  ssize_t n = ::read(fd.get(), buf, sizeof buf - 1);
  if (n > 0) {
    buf[n] = 0;
    const char* at = std::strstr(buf, " nice ");
    if (at && std::atoi(at + 6) == nice) return;
  }
  base::UniqueFd out(::open(path.c_str(), O_WRONLY | O_CLOEXEC));  // a seq file: no pwrite
  std::string value = std::to_string(nice);
  if (out) (void)!::write(out.get(), value.data(), value.size());
}

}  // namespace

std::map<pid_t, ProcInfo> ScanProcesses(const std::string& proc) {
  std::map<pid_t, ProcInfo> all;
  DIR* dir = ::opendir(proc.c_str());
  if (!dir) return all;
  while (dirent* e = ::readdir(dir)) {
    if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
    ProcInfo info;
    if (ReadStat(::dirfd(dir), e->d_name, &info)) all[std::atoi(e->d_name)] = std::move(info);
  }
  ::closedir(dir);
  return all;
}

std::vector<pid_t> ProcessTree(const std::map<pid_t, ProcInfo>& all, pid_t root) {
  std::multimap<pid_t, pid_t> children;
  for (const auto& [pid, info] : all) children.emplace(info.ppid, pid);
  std::vector<pid_t> tree;
  if (!all.count(root)) return tree;
  tree.push_back(root);
  for (size_t i = 0; i < tree.size(); ++i) {
    auto [b, e] = children.equal_range(tree[i]);
    for (auto it = b; it != e; ++it) tree.push_back(it->second);
  }
  return tree;
}

bool IsCompiler(const std::string& comm) {
  static const char* const kNames[] = {"cc1",  "cc1plus", "cc1obj", "cc1objplus",
                                       "f951", "lto1",    "rustc"};
  for (const char* n : kNames) {
    if (comm == n) return true;
  }
  return comm.rfind("clang", 0) == 0;
}

int ProcessCensus::DesiredNice(size_t node, const std::vector<RunningPid>& running) const {
  const auto& p = options_.priorities;
  if (running.size() < 2 || node >= p.size()) return 0;
  for (const auto& r : running) {
    // Ties keep the earlier node, as the start order does.
    if (r.node < p.size() && (p[r.node] > p[node] || (p[r.node] == p[node] && r.node < node)))
      return options_.nice;
  }
  return 0;
}

void ProcessCensus::Tick(const std::vector<RunningPid>& running) {
  double now = base::MonotonicSeconds();
  if (running.empty() || now - last_ < options_.interval_seconds) return;
  last_ = now;
  auto all = ScanProcesses();
  int processes = 0, compilers = 0;
  for (const auto& r : running) {
    if (r.pid <= 0) continue;
    int nice = DesiredNice(r.node, running);
    if (!options_.priorities.empty()) SetAutogroupNice(r.pid, nice);
    for (pid_t pid : ProcessTree(all, r.pid)) {
      const ProcInfo& info = all[pid];
      ++processes;
      compilers += IsCompiler(info.comm);
      // Lowering fails without CAP_SYS_NICE: the tree then stays niced.
      if (!options_.priorities.empty() && info.nice != nice)
        (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(pid), nice);
    }
  }
  peak_processes_ = std::max(peak_processes_, processes);
  peak_compilers_ = std::max(peak_compilers_, compilers);
}

void ProcessCensus::Finish(RunSummary& summary) {
  summary.peak_processes = peak_processes_;
  summary.peak_compilers = peak_compilers_;
}

}  // namespace nsbuild::builder
