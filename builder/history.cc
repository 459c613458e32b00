#include "builder/history.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <sstream>

#include "base/escape.h"
#include "base/fs.h"
#include "builder/plan.h"
#include "builder/results.h"

namespace nsbuild::builder {
namespace {

constexpr size_t kMaxName = 128;
constexpr double kMaxSeconds = 7 * 24 * 3600.0;
constexpr const char* kHeader = "# nsbuild history v1";

// A name fits a whitespace-separated field and prints as itself.
bool ValidName(const std::string& s) {
  if (s.empty() || s.size() > kMaxName) return false;
  for (unsigned char c : s) {
    if (c <= ' ' || c >= 0x7f) return false;
  }
  return true;
}

bool ParseSeconds(const std::string& s, double* out) {
  if (s.empty() || s.size() > 32) return false;
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || !std::isfinite(v) || v < 0 || v > kMaxSeconds) return false;
  *out = v;
  return true;
}

// Ours and nobody else's to change: a file another user can write could
// steer the order of the build (never its content), so it is not read.
base::Status CheckOwned(int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return base::ErrnoError("fstat history");
  if (st.st_uid != ::geteuid()) return base::PlainError("history: owned by another user");
  if (st.st_mode & (S_IWGRP | S_IWOTH)) return base::PlainError("history: writable by others");
  return {};
}

base::Result<std::string> ReadOwned(base::BorrowedFd dir) {
  NSB_ASSIGN_OR_RETURN(base::UniqueFd fd, base::OpenUntrusted(dir, History::kFileName));
  NSB_TRY(CheckOwned(fd.get()));
  std::string text;
  char buf[16384];
  while (text.size() < History::kMaxBytes) {
    ssize_t n = ::read(fd.get(), buf, std::min(sizeof buf, History::kMaxBytes - text.size()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return base::ErrnoError("read history");
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  return text;
}

}  // namespace

History History::Parse(const std::string& text) {
  History h;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line) && h.entries_.size() < kMaxEntries) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string recipe, target, phase, wall, cpu, extra;
    if (!(fields >> recipe >> target >> phase >> wall >> cpu) || (fields >> extra)) continue;
    PhaseTimes t;
    if (!ParseSeconds(wall, &t.wall_seconds) || !ParseSeconds(cpu, &t.cpu_seconds)) continue;
    h.Record(recipe, target, phase, t);
  }
  return h;
}

History History::Load(base::BorrowedFd dir) {
  auto text = ReadOwned(dir);
  if (!text.ok()) {
    if (text.error().errnum != ENOENT)
      spdlog::debug("history not used: {}", base::EscapeLine(text.error().Message()));
    return {};
  }
  return Parse(*text);
}

std::string History::Serialize() const {
  std::string out = std::string(kHeader) + "\n";
  char num[64];
  for (const auto& [key, t] : entries_) {
    std::snprintf(num, sizeof num, " %.3f %.3f\n", t.wall_seconds, t.cpu_seconds);
    out += std::get<0>(key) + " " + std::get<1>(key) + " " + std::get<2>(key) + num;
  }
  return out;
}

base::Status History::Save(base::BorrowedFd dir) const {
  std::string tmp = std::string(kFileName) + ".tmp";
  ::unlinkat(dir.get(), tmp.c_str(), 0);
  base::UniqueFd fd(
      ::openat(dir.get(), tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
  if (!fd) return base::ErrnoError("create " + tmp);
  NSB_TRY(base::WriteAll(fd, Serialize()));
  fd.reset();
  if (::renameat(dir.get(), tmp.c_str(), dir.get(), kFileName) != 0)
    return base::ErrnoError("rename " + tmp);
  return {};
}

const PhaseTimes* History::Find(const std::string& recipe, const std::string& target,
                                const std::string& phase) const {
  auto it = entries_.find(Key(recipe, target, phase));
  return it == entries_.end() ? nullptr : &it->second;
}

void History::Record(const std::string& recipe, const std::string& target, const std::string& phase,
                     PhaseTimes times) {
  if (!ValidName(recipe) || !ValidName(target) || !ValidName(phase)) return;
  if (!(times.wall_seconds >= 0 && times.wall_seconds <= kMaxSeconds)) return;
  if (!(times.cpu_seconds >= 0 && times.cpu_seconds <= kMaxSeconds)) return;
  Key key(recipe, target, phase);
  if (!entries_.count(key) && entries_.size() >= kMaxEntries) return;
  entries_[key] = times;
}

void History::RecordRun(const std::string& recipe, const Plan& plan, const RunSummary& summary) {
  for (const auto& node : plan.nodes) {
    const NodeResult& r = summary.nodes[node.id];
    if (r.state != NodeState::kSucceeded) continue;
    Record(recipe, plan.targets[node.target], node.PhaseName(),
           {r.end - r.start, r.exit.user_seconds + r.exit.sys_seconds});
  }
}

}  // namespace nsbuild::builder
