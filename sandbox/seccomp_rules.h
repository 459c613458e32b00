// The seccomp rule set: named groups of syscall rules (first rule that matches
// wins, everything unmatched is allowed), compiled with libseccomp into a
// classic BPF program in the parent. The child only installs the bytes.
//
// Why a deny list and not an allow list: builds run arbitrary toolchains, and
// the mount namespace, the dropped capabilities and no_new_privs are the
// boundary. These rules close the kernel interfaces that have turned a
// sandbox inside out before; each group in seccomp_rules.cc says which
// (TIOCSTI, the mount API, the setuid bits, foreign syscall ABIs).
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "sandbox/spec.h"

namespace nsbuild::sandbox {

enum class RuleAction { kErrno, kKill };

// Masked equality on one argument: (arg & mask) == value. (libseccomp
// takes one comparison per argument, so that is all a rule needs.)
struct ArgMatch {
  unsigned index = 0;
  uint64_t mask = 0;
  uint64_t value = 0;
};

struct SyscallRule {
  const char* syscall;  // name, resolved through libseccomp
  int x86_64_nr;        // used when this libseccomp does not know the name
  RuleAction action = RuleAction::kErrno;
  int errnum = 0;
  std::vector<ArgMatch> matches;  // all must hold (AND); empty = always
  const char* note = "";          // why, for --dry-run
};

struct RuleGroup {
  const char* name;
  const char* why;
  std::vector<SyscallRule> rules;
};

// Every group, in the order they are compiled.
const std::vector<RuleGroup>& RuleGroups();

// Checks the group names a spec asks for.
base::Status ValidateSeccompSpec(const SeccompSpec& spec);

// Everything libseccomp is given to compile one program, in the order it is
// given: the default action, the attributes, and each rule with its
// syscall number already resolved and its action already encoded. It is
// both what CompileFilter feeds libseccomp and what a cached program is
// keyed by (seccomp_cache.h), so the key cannot miss an input.
struct FilterInput {
  struct Rule {
    std::string syscall;  // the name, for the key's readability
    int nr = 0;
    uint32_t action = 0;  // SCMP_ACT_* value
    std::vector<ArgMatch> matches;
  };
  bool disabled = false;  // seccomp off: no program at all
  uint32_t default_action = 0;
  std::vector<std::pair<int, uint32_t>> attrs;  // SCMP_FLTATR_*, value
  std::vector<Rule> rules;
};

// The input for a spec (no rules when disabled); unknown groups are errors.
base::Result<FilterInput> SeccompInput(const SeccompSpec& spec);
// The notification filter of the write watcher (watched_calls.h): default
// allow, SCMP_ACT_NOTIFY for every watched call, open-like calls only when
// their flags ask for writing, so read-only opens never leave the kernel.
base::Result<FilterInput> WriteWatchInput();
// libseccomp's program for an input (empty when disabled).
base::Result<std::vector<sock_filter>> CompileFilter(const FilterInput& in);
// One text naming every field of the input, in order (seccomp_cache.h).
std::string FilterInputText(const FilterInput& in);

// Compiled every time, through libseccomp: the reference the cached program
// (seccomp_cache.h) is checked against.
base::Result<std::vector<sock_filter>> CompileSeccomp(const SeccompSpec& spec);
base::Result<std::vector<sock_filter>> CompileWriteWatch();

// One line per rule, for --dry-run.
std::string DescribeSeccomp(const SeccompSpec& spec);

}  // namespace nsbuild::sandbox
