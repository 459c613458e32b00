#include "sandbox/seccomp_rules.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "base/unique_fd.h"
#include "sandbox/watched_calls.h"

#ifndef TIOCLINUX
#define TIOCLINUX 0x541C
#endif
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

namespace nsbuild::sandbox {
namespace {

using base::ErrnoError;
using base::Error;
using base::PlainError;
using base::Result;
using base::Status;

constexpr uint64_t kNamespaceFlags = CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC |
                                     CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWTIME;

SyscallRule Deny(const char* name, int nr, int err = EPERM) {
  return SyscallRule{name, nr, RuleAction::kErrno, err, {}, ""};
}

void Append(std::vector<SyscallRule>& to, std::vector<SyscallRule> from) {
  to.insert(to.end(), from.begin(), from.end());
}

ArgMatch Bit(unsigned arg, uint64_t bit) { return ArgMatch{arg, bit, bit}; }

// Denies when any of the bits is set: one rule per bit, since libseccomp's
// masked equality tests one value. `also` is ANDed into every rule.
std::vector<SyscallRule> DenyBits(const char* name, int nr, unsigned arg,
                                  std::initializer_list<uint64_t> bits, const char* note,
                                  std::vector<ArgMatch> also = {}) {
  std::vector<SyscallRule> out;
  for (uint64_t bit : bits) {
    SyscallRule r{name, nr, RuleAction::kErrno, EPERM, also, note};
    r.matches.push_back(Bit(arg, bit));
    out.push_back(r);
  }
  return out;
}

// open-like calls only use their mode when creating (O_CREAT or O_TMPFILE);
// matching the flag too keeps a garbage mode in a plain open from failing.
void DenySetidCreate(std::vector<SyscallRule>& to, const char* name, int nr, unsigned flags_arg,
                     unsigned mode_arg) {
  for (uint64_t create : {uint64_t{O_CREAT}, uint64_t{__O_TMPFILE}}) {
    Append(to, DenyBits(name, nr, mode_arg, {S_ISUID, S_ISGID}, "creating with S_ISUID/S_ISGID",
                        {Bit(flags_arg, create)}));
  }
}

RuleGroup SetidGroup() {
  // chmod-like calls and file creation with a mode can make setuid/setgid
  // files; fchmodat2 (Linux 6.6) is listed by number because older
  // libseccomp does not know it, the gap a deny list by name misses.
  RuleGroup g{"setid", "no setuid/setgid files: chmod, fchmodat2 and create modes", {}};
  const char* note = "mode has S_ISUID or S_ISGID";
  Append(g.rules, DenyBits("chmod", 90, 1, {S_ISUID, S_ISGID}, note));
  Append(g.rules, DenyBits("fchmod", 91, 1, {S_ISUID, S_ISGID}, note));
  Append(g.rules, DenyBits("fchmodat", 268, 2, {S_ISUID, S_ISGID}, note));
  Append(g.rules, DenyBits("fchmodat2", 452, 2, {S_ISUID, S_ISGID}, note));
  Append(g.rules, DenyBits("creat", 85, 1, {S_ISUID, S_ISGID}, note));
  Append(g.rules, DenyBits("mknod", 133, 1, {S_ISUID, S_ISGID}, note));
  Append(g.rules, DenyBits("mknodat", 259, 2, {S_ISUID, S_ISGID}, note));
  DenySetidCreate(g.rules, "open", 2, 1, 2);
  DenySetidCreate(g.rules, "openat", 257, 2, 3);
  // openat2 keeps its mode in a struct seccomp cannot read: ENOSYS makes
  // callers fall back to openat, which is checked above.
  g.rules.push_back(Deny("openat2", 437, ENOSYS));
  return g;
}

RuleGroup XattrGroup() {
  // seccomp cannot read the attribute name, so the only sound rule is the
  // whole family. EOPNOTSUPP is what a filesystem without xattrs answers,
  // which cp, tar and Python's shutil already handle quietly.
  RuleGroup g{"xattr-write", "no xattr writes (security.*, trusted.* and the rest)", {}};
  for (auto [name, nr] :
       std::initializer_list<std::pair<const char*, int>>{{"setxattr", 188},
                                                          {"lsetxattr", 189},
                                                          {"fsetxattr", 190},
                                                          {"removexattr", 197},
                                                          {"lremovexattr", 198},
                                                          {"fremovexattr", 199},
                                                          {"setxattrat", 463},
                                                          {"removexattrat", 466}}) {
    g.rules.push_back(Deny(name, nr, EOPNOTSUPP));
  }
  return g;
}

RuleGroup MountGroup() {
  RuleGroup g{"mount", "no mount changes, old or new mount API (CVE-2021-41133)", {}};
  for (auto [name, nr] :
       std::initializer_list<std::pair<const char*, int>>{{"mount", 165},
                                                          {"umount2", 166},
                                                          {"pivot_root", 155},
                                                          {"chroot", 161},
                                                          {"fsopen", 430},
                                                          {"fsconfig", 431},
                                                          {"fsmount", 432},
                                                          {"fspick", 433},
                                                          {"open_tree", 428},
                                                          {"move_mount", 429},
                                                          {"mount_setattr", 442},
                                                          {"open_tree_attr", 467}}) {
    g.rules.push_back(Deny(name, nr));
  }
  return g;
}

RuleGroup NamespaceGroup() {
  RuleGroup g{"namespaces", "no new namespaces: unshare, setns, clone flags, clone3", {}};
  g.rules.push_back(Deny("unshare", 272));
  g.rules.push_back(Deny("setns", 308));
  for (uint64_t bit = 1; bit <= kNamespaceFlags; bit <<= 1) {
    if (!(kNamespaceFlags & bit)) continue;
    g.rules.push_back(SyscallRule{
        "clone", 56, RuleAction::kErrno, EPERM, {Bit(0, bit)}, "flags has a CLONE_NEW* bit"});
  }
  // clone3 passes its flags in memory seccomp cannot read; ENOSYS makes libc
  // fall back to clone, whose flags are checked above.
  g.rules.push_back(Deny("clone3", 435, ENOSYS));
  return g;
}

RuleGroup TtyGroup() {
  // The kernel reads ioctl's request as 32 bits, so compare only those: a
  // request with high bits set is still TIOCSTI (CVE-2019-10063).
  RuleGroup g{"tty-inject", "no typing into a terminal: TIOCSTI, TIOCLINUX", {}};
  g.rules.push_back(SyscallRule{"ioctl",
                                16,
                                RuleAction::kErrno,
                                EPERM,
                                {{1, 0xffffffffull, TIOCSTI}},
                                "request TIOCSTI (low 32 bits)"});
  g.rules.push_back(SyscallRule{"ioctl",
                                16,
                                RuleAction::kErrno,
                                EPERM,
                                {{1, 0xffffffffull, TIOCLINUX}},
                                "request TIOCLINUX (low 32 bits)"});
  return g;
}

RuleGroup PersonalityGroup() {
  // Execution-domain bits that weaken memory protections (executable data,
  // a mappable page zero for NULL-dereference exploits, legacy layouts).
  // ADDR_NO_RANDOMIZE and UNAME26 stay: reproducibility checks use them.
  // personality(0xffffffff) only queries, yet has every bit set, and
  // libseccomp allows one comparison per argument. So "a weakening bit set
  // and not the query" is spelled as masked matches "bit b set, bit k
  // clear", which cover exactly that set with 35 rules: with READ_IMPLIES_EXEC
  // set, some other bit is clear (one rule per other bit k); with it clear,
  // another weakening bit b is set and READ_IMPLIES_EXEC is the clear bit
  // (one rule per b). Each rule needs a weakening bit set and a bit clear,
  // so none refuses the query or a harmless value. (Every pair (b, k), 155
  // rules, said the same in a filter 2.4 times as long, which the kernel
  // checks and JITs at every sandbox start.)
  RuleGroup g{"personality", "no personality bits that weaken memory protection", {}};
  constexpr uint64_t kReadImpliesExec = 0x0400000;
  auto deny = [&g](uint64_t set, uint64_t clear) {
    g.rules.push_back(SyscallRule{"personality",
                                  135,
                                  RuleAction::kErrno,
                                  EPERM,
                                  {ArgMatch{0, set | clear, set}},
                                  "weakening bit set"});
  };
  for (int k = 0; k < 32; ++k) {
    uint64_t other = 1ull << k;
    if (other != kReadImpliesExec) deny(kReadImpliesExec, other);
  }
  for (uint64_t bit : {0x0100000ull /*MMAP_PAGE_ZERO*/, 0x0200000ull /*ADDR_COMPAT_LAYOUT*/,
                       0x0800000ull /*ADDR_LIMIT_32BIT*/, 0x8000000ull /*ADDR_LIMIT_3GB*/}) {
    deny(bit, kReadImpliesExec);
  }
  return g;
}

RuleGroup SimpleGroup(const char* name, const char* why,
                      std::initializer_list<std::pair<const char*, int>> calls) {
  RuleGroup g{name, why, {}};
  for (auto [call, nr] : calls) g.rules.push_back(Deny(call, nr));
  return g;
}

std::vector<RuleGroup> BuildGroups() {
  std::vector<RuleGroup> groups;
  groups.push_back(SetidGroup());
  groups.push_back(XattrGroup());
  groups.push_back(MountGroup());
  groups.push_back(NamespaceGroup());
  groups.push_back(TtyGroup());
  groups.push_back(PersonalityGroup());
  groups.push_back(SimpleGroup("keys", "no kernel keyrings",
                               {{"keyctl", 250}, {"add_key", 248}, {"request_key", 249}}));
  groups.push_back(SimpleGroup("bpf", "no eBPF", {{"bpf", 321}}));
  groups.push_back(SimpleGroup("perf", "no perf events", {{"perf_event_open", 298}}));
  groups.push_back(
      SimpleGroup("userfaultfd", "no userfaultfd (race widening)", {{"userfaultfd", 323}}));
  groups.push_back(
      SimpleGroup("io_uring", "no io_uring: its ops bypass syscall filters",
                  {{"io_uring_setup", 425}, {"io_uring_enter", 426}, {"io_uring_register", 427}}));
  groups.push_back(SimpleGroup("kernel-modules", "no kernel loading or module changes",
                               {{"kexec_load", 246},
                                {"kexec_file_load", 320},
                                {"init_module", 175},
                                {"finit_module", 313},
                                {"delete_module", 176}}));
  groups.push_back(SimpleGroup(
      "host-admin", "no host administration calls (defence in depth behind dropped caps)",
      {{"acct", 163},
       {"swapon", 167},
       {"swapoff", 168},
       {"reboot", 169},
       {"settimeofday", 164},
       {"clock_settime", 227},
       {"clock_adjtime", 305},
       {"adjtimex", 159},
       {"syslog", 103},
       {"quotactl", 179},
       {"iopl", 172},
       {"ioperm", 173},
       {"lookup_dcookie", 212},
       {"vhangup", 153},
       {"nfsservctl", 180}}));
  return groups;
}

// Network "distcc" only: nothing inside accepts connections.
SyscallRule ListenRule() {
  return SyscallRule{"listen", 50, RuleAction::kErrno,
                     EPERM,    {}, "network distcc: no listening sockets"};
}

bool Wanted(const SeccompSpec& spec, const RuleGroup& g) {
  if (spec.deny_groups.empty()) return true;
  return std::find(spec.deny_groups.begin(), spec.deny_groups.end(), g.name) !=
             spec.deny_groups.end() ||
         std::find(spec.deny_groups.begin(), spec.deny_groups.end(), "all") !=
             spec.deny_groups.end();
}

int ResolveSyscall(const SyscallRule& r) {
  int nr = seccomp_syscall_resolve_name(r.syscall);
  if (nr != __NR_SCMP_ERROR) return nr;
#if defined(__x86_64__)
  return r.x86_64_nr;  // newer than this libseccomp; the number is the ABI
#else
  return __NR_SCMP_ERROR;
#endif
}

struct FilterCtx {
  scmp_filter_ctx ctx;
  explicit FilterCtx(uint32_t def) : ctx(seccomp_init(def)) {}
  ~FilterCtx() {
    if (ctx) seccomp_release(ctx);
  }
};

// action 0: the rule's own (errno or kill).
Status AddRule(FilterInput& in, const SyscallRule& r, uint32_t action = 0) {
  int nr = ResolveSyscall(r);
  if (nr == __NR_SCMP_ERROR) return PlainError(std::string("unknown syscall ") + r.syscall);
  if (action == 0) {
    action = r.action == RuleAction::kKill ? SCMP_ACT_KILL_PROCESS : SCMP_ACT_ERRNO(r.errnum);
  }
  in.rules.push_back(FilterInput::Rule{r.syscall, nr, action, r.matches});
  return {};
}

Status ApplyRule(scmp_filter_ctx ctx, const FilterInput::Rule& r) {
  std::vector<scmp_arg_cmp> cmps;
  for (const auto& m : r.matches) {
    cmps.push_back(SCMP_CMP64(m.index, SCMP_CMP_MASKED_EQ, m.mask, m.value));
  }
  int rc = seccomp_rule_add_array(ctx, r.action, r.nr, static_cast<unsigned>(cmps.size()),
                                  cmps.empty() ? nullptr : cmps.data());
  if (rc < 0) return Error{-rc, "seccomp_rule_add " + r.syscall};
  return {};
}

Result<std::vector<sock_filter>> ExportBpf(scmp_filter_ctx ctx) {
  base::UniqueFd mem(memfd_create("nsbuild-seccomp", MFD_CLOEXEC));
  if (!mem) return ErrnoError("memfd_create for seccomp export");
  if (int rc = seccomp_export_bpf(ctx, mem.get()); rc < 0) return Error{-rc, "seccomp_export_bpf"};
  off_t size = lseek(mem.get(), 0, SEEK_END);
  if (size < 0 || size % sizeof(sock_filter) != 0) return PlainError("seccomp export has odd size");
  std::vector<sock_filter> prog(static_cast<size_t>(size) / sizeof(sock_filter));
  if (pread(mem.get(), prog.data(), static_cast<size_t>(size), 0) != size) {
    return ErrnoError("read back seccomp program");
  }
  return prog;
}

}  // namespace

const std::vector<RuleGroup>& RuleGroups() {
  static const std::vector<RuleGroup> groups = BuildGroups();
  return groups;
}

Status ValidateSeccompSpec(const SeccompSpec& spec) {
  for (const auto& name : spec.deny_groups) {
    if (name == "all") continue;
    bool known = std::any_of(RuleGroups().begin(), RuleGroups().end(),
                             [&](const RuleGroup& g) { return name == g.name; });
    if (!known) {
      std::string list;
      for (const auto& g : RuleGroups()) list += std::string(list.empty() ? "" : ", ") + g.name;
      return PlainError("unknown seccomp group '" + name + "' (known: all, " + list + ")");
    }
  }
  return {};
}

Result<FilterInput> SeccompInput(const SeccompSpec& spec) {
  FilterInput in;
  if (!spec.enabled) {
    in.disabled = true;
    return in;
  }
  NSB_TRY(ValidateSeccompSpec(spec));
  in.default_action = SCMP_ACT_ALLOW;
  // Foreign architectures (i386 via int 0x80, x32) die: rules written for
  // x86_64 numbers mean nothing there (the firejail x32 lesson).
  uint32_t badarch = spec.kill_foreign_arch ? SCMP_ACT_KILL_PROCESS : SCMP_ACT_ALLOW;
  in.attrs.emplace_back(SCMP_FLTATR_ACT_BADARCH, badarch);
  // The child sets no_new_privs itself, right before loading the filter.
  in.attrs.emplace_back(SCMP_FLTATR_CTL_NNP, 0);
  for (const auto& g : RuleGroups()) {
    if (!Wanted(spec, g)) continue;
    for (const auto& r : g.rules) NSB_TRY(AddRule(in, r));
  }
  if (spec.deny_listen) NSB_TRY(AddRule(in, ListenRule()));
  return in;
}

Result<FilterInput> WriteWatchInput() {
  FilterInput in;
  in.default_action = SCMP_ACT_ALLOW;
  in.attrs.emplace_back(SCMP_FLTATR_CTL_NNP, 0);
  // Any of these flag bits means the open may write (O_APPEND alone does not).
  const uint64_t kWriteBits[] = {O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, __O_TMPFILE};
  for (const WatchedCall& c : WatchedCalls()) {
    SyscallRule rule{c.name, c.x86_64_nr, RuleAction::kErrno, 0, {}, ""};
    if (c.flags_arg < 0) {
      NSB_TRY(AddRule(in, rule, SCMP_ACT_NOTIFY));
      continue;
    }
    for (uint64_t bit : kWriteBits) {
      rule.matches = {Bit(static_cast<unsigned>(c.flags_arg), bit)};
      NSB_TRY(AddRule(in, rule, SCMP_ACT_NOTIFY));
    }
  }
  return in;
}

Result<std::vector<sock_filter>> CompileFilter(const FilterInput& in) {
  if (in.disabled) return std::vector<sock_filter>{};
  FilterCtx f(in.default_action);
  if (!f.ctx) return PlainError("seccomp_init failed");
  for (auto [attr, value] : in.attrs) {
    if (int rc = seccomp_attr_set(f.ctx, static_cast<scmp_filter_attr>(attr), value); rc < 0) {
      return Error{-rc, "seccomp_attr_set " + std::to_string(attr)};
    }
  }
  for (const auto& r : in.rules) NSB_TRY(ApplyRule(f.ctx, r));
  return ExportBpf(f.ctx);
}

std::string FilterInputText(const FilterInput& in) {
  if (in.disabled) return "disabled\n";
  char line[160];
  std::snprintf(line, sizeof line, "default %#x\n", in.default_action);
  std::string out = line;
  for (auto [attr, value] : in.attrs) {
    std::snprintf(line, sizeof line, "attr %d %#x\n", attr, value);
    out += line;
  }
  for (const auto& r : in.rules) {
    std::snprintf(line, sizeof line, "rule %d %#x", r.nr, r.action);
    out += line + (" " + r.syscall);
    for (const auto& m : r.matches) {
      std::snprintf(line, sizeof line, " arg%u&%#llx==%#llx", m.index,
                    static_cast<unsigned long long>(m.mask),
                    static_cast<unsigned long long>(m.value));
      out += line;
    }
    out += "\n";
  }
  return out;
}

Result<std::vector<sock_filter>> CompileSeccomp(const SeccompSpec& spec) {
  NSB_ASSIGN_OR_RETURN(FilterInput in, SeccompInput(spec));
  return CompileFilter(in);
}

Result<std::vector<sock_filter>> CompileWriteWatch() {
  NSB_ASSIGN_OR_RETURN(FilterInput in, WriteWatchInput());
  return CompileFilter(in);
}

std::string DescribeSeccomp(const SeccompSpec& spec) {
  if (!spec.enabled) return "seccomp: disabled\n";
  std::string out = "seccomp: default allow; foreign architectures (x32, i386) ";
  out += spec.kill_foreign_arch ? "killed\n" : "allowed\n";
  if (spec.deny_listen) out += "  rule listen -> EPERM  (network distcc: no listening sockets)\n";
  for (const auto& g : RuleGroups()) {
    if (!Wanted(spec, g)) continue;
    out += "  group " + std::string(g.name) + ": " + g.why + "\n";
    for (const auto& r : g.rules) {
      const char* what = r.action == RuleAction::kKill ? "kill" : strerrorname_np(r.errnum);
      out += "    " + std::string(r.syscall);
      for (size_t i = 0; i < r.matches.size(); ++i) {
        char cond[96];
        const ArgMatch& m = r.matches[i];
        std::snprintf(cond, sizeof cond, "%s arg%u & %#llx == %#llx", i ? " &&" : " if", m.index,
                      static_cast<unsigned long long>(m.mask),
                      static_cast<unsigned long long>(m.value));
        out += cond;
      }
      out += std::string(" -> ") + what;
      if (*r.note) out += std::string("  (") + r.note + ")";
      out += "\n";
    }
  }
  return out;
}

}  // namespace nsbuild::sandbox
