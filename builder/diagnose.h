// Failure diagnosis: what a failed sub-phase's script, log and exit status
// say, turned into one line a packager can act on. Pure functions over
// strings (the scheduler calls them through SchedulerOptions hooks), so every
// rule is unit-tested without a sandbox.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "builder/plan.h"
#include "builder/recipe.h"
#include "builder/scheduler.h"
#include "sandbox/policy.h"
#include "sandbox/write_watch.h"

namespace nsbuild::builder {

// The script a phase's /bin/sh runs. A multi-line command gets, on the same
// line as each line it can mark safely, `__nsb_line=N;` (so the
// line count stays the recipe's), and an EXIT trap that prints
// "nsbuild: failed at line N (exit status S)" when the script fails. Lines
// inside here-documents, quotes, case bodies, continuations and `$?` users
// are left alone. A one-line command is returned unchanged.
std::string NumberedScript(const std::string& command);

// The line number the trap printed in a log's tail, 0 for none. The log is
// the sandbox's: only the last marker counts, and only its digits are read.
int FailedLineOf(std::string_view log_tail);

// "line N: TEXT" for the recipe's own text of that line (trusted, ours),
// numbered as the recipe's array entries are (1 = the first entry), "" for a
// line the command does not have.
std::string DescribeFailedLine(const std::string& command, int line);

// The signal a shell's exit status 128+N says killed its child, 0 if none.
int ShellChildSignal(int exit_status);
// "SIGSEGV" for 11; "signal N" for a number without a name.
std::string SignalName(int signal);

// What a failed sub-phase's facts suggest, one hint a line.
struct FailureFacts {
  std::string phase;     // configure, compile, test, install
  std::string log_tail;  // escaped, as LogTail returns it
  bool disk_full = false;
  bool noexec_writable = false;  // the policy mounts writable dirs noexec
  bool no_network = false;       // the policy's network is "none" or loopback only
};
std::vector<std::string> FailureHints(const FailureFacts& facts);

// The first lines of every sub-phase log: which implementation, which phase,
// which command, and the sandbox's view in one line.
std::string LogHeader(const std::string& target, const std::string& phase,
                      const std::string& command, const std::string& view);
// That one line: what is read-only, what is writable, the network, noexec.
std::string DescribeView(const sandbox::Policy& policy, const std::vector<AddWrite>& addwrite);

// Denied writes of an `install` phase under an install prefix (/usr,
// /usr/local, /opt, /etc): the hint to install into $D, "" for others.
std::string InstallPrefixHint(const std::string& phase,
                              const std::vector<sandbox::WriteViolation>& violations);

// What to do about a run's denied writes: install into $D when an install
// phase wrote under a prefix, else addwrite or --on-write-violation warn.
std::string WriteViolationAdvice(const Plan& plan, const RunSummary& summary);

// Sets `options`' log_header and diagnose hooks for a run of `plan` under
// `policy` (the recipe's addwrite shown in the view). `plan` must outlive
// the run; the disk check looks at options.log_dir_fd's filesystem.
void AddDiagnosis(SchedulerOptions& options, const Plan& plan, const sandbox::Policy& policy,
                  const Recipe& recipe);

}  // namespace nsbuild::builder
