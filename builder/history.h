// How long each sub-phase took the last time it succeeded, per recipe and
// implementation, like ninja's .ninja_log: the scheduler's estimate of the
// work ahead (critical_path.h). Kept in WORK/history, beside the parts a
// run resets, so it outlives the run that wrote it.
//
// The file is plain text, one entry a line:
//   RECIPE TARGET PHASE WALL_SECONDS CPU_SECONDS
// It is a hint, never an input that can change what is built: a missing,
// foreign or garbled file only costs the estimates. So it is read bounded
// (kMaxBytes), through the work dir's fd without following a symlink,
// refused unless it is a regular file owned by the reader and writable by
// nobody else (root never trusts a file another user can write), and every
// line that does not parse is skipped.
#pragma once

#include <map>
#include <string>
#include <tuple>

#include "base/result.h"
#include "base/unique_fd.h"

namespace nsbuild::builder {

struct Plan;
struct RunSummary;

struct PhaseTimes {
  double wall_seconds = 0;
  double cpu_seconds = 0;  // user + sys of every process of the sub-phase
};

class History {
 public:
  static constexpr const char* kFileName = "history";
  static constexpr size_t kMaxBytes = 256 * 1024;
  static constexpr size_t kMaxEntries = 4096;

  // The entries of `text`; lines that do not parse are skipped.
  static History Parse(const std::string& text);
  // WORK/history through `dir`; an empty history when it is missing, not
  // ours, not a regular file or writable by others (the reason is logged at
  // debug level: a stale or foreign file is no error).
  static History Load(base::BorrowedFd dir);

  std::string Serialize() const;
  // Written to a temporary name beneath `dir` (O_EXCL, O_NOFOLLOW, 0644),
  // then renamed over kFileName.
  base::Status Save(base::BorrowedFd dir) const;

  const PhaseTimes* Find(const std::string& recipe, const std::string& target,
                         const std::string& phase) const;
  void Record(const std::string& recipe, const std::string& target, const std::string& phase,
              PhaseTimes times);
  // Every sub-phase of `summary` that succeeded.
  void RecordRun(const std::string& recipe, const Plan& plan, const RunSummary& summary);
  size_t size() const { return entries_.size(); }

 private:
  using Key = std::tuple<std::string, std::string, std::string>;
  std::map<Key, PhaseTimes> entries_;
};

}  // namespace nsbuild::builder
