// The seccomp rule tables, entry by entry. Three directions, so a table and
// its tests cannot drift apart silently:
//  - a hand-written list of verdicts (kCases, from the threat model, not
//    from the table) must hold on the compiled program: an entry removed
//    from the table fails here;
//  - every table entry must be exercised by some case of that list: an entry
//    added without a test fails here;
//  - every table entry, fed the arguments it matches, gives its own action
//    (generated from the table itself): a compile step that drops or
//    mistranslates a rule fails here.
// The write watcher's list (watched_calls.h) is held to the same standard.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <csignal>
#include <map>
#include <set>
#include <string>
#include <tuple>

#include "sandbox/seccomp_rules.h"
#include "sandbox/watched_calls.h"
#include "tests/unit/bpf_eval.h"

namespace nsbuild::sandbox {
namespace {

using nsbuild::testing::Evaluate;

constexpr uint32_t kAllow = SECCOMP_RET_ALLOW;
constexpr uint32_t kNotify = SECCOMP_RET_USER_NOTIF;
constexpr uint32_t Errno(int e) { return SECCOMP_RET_ERRNO | static_cast<uint32_t>(e); }

struct Case {
  const char* syscall;
  int nr;  // x86_64, from the kernel's syscall_64.tbl
  std::vector<uint64_t> args;
  uint32_t expect;
};

constexpr uint64_t kSuid = S_ISUID, kSgid = S_ISGID;

// Verdicts the default policy (every group, listen denied) must give.
std::vector<Case> Cases() {
  std::vector<Case> c;
  auto deny = [&](const char* name, int nr, int err = EPERM) {
    c.push_back({name, nr, {}, Errno(err)});
  };
  // setid: every way to give a path a setuid or setgid mode.
  for (auto [name, nr, mode_arg] :
       std::initializer_list<std::tuple<const char*, int, int>>{{"chmod", 90, 1},
                                                                {"fchmod", 91, 1},
                                                                {"fchmodat", 268, 2},
                                                                {"fchmodat2", 452, 2},
                                                                {"creat", 85, 1},
                                                                {"mknod", 133, 1},
                                                                {"mknodat", 259, 2}}) {
    for (uint64_t bit : {kSuid, kSgid}) {
      std::vector<uint64_t> args(6, 0);
      args[mode_arg] = bit | 0755;
      c.push_back({name, nr, args, Errno(EPERM)});
    }
    std::vector<uint64_t> plain(6, 0);
    plain[mode_arg] = 0755;
    c.push_back({name, nr, plain, kAllow});
  }
  for (auto [name, nr, flags_arg] : std::initializer_list<std::tuple<const char*, int, int>>{
           {"open", 2, 1}, {"openat", 257, 2}}) {
    for (uint64_t create : {uint64_t{O_CREAT | O_WRONLY}, uint64_t{__O_TMPFILE | O_RDWR}}) {
      for (uint64_t bit : {kSuid, kSgid}) {
        std::vector<uint64_t> args(6, 0);
        args[flags_arg] = create;
        args[flags_arg + 1] = bit | 0644;
        c.push_back({name, nr, args, Errno(EPERM)});
      }
    }
    std::vector<uint64_t> no_create(6, 0);  // a garbage mode without O_CREAT is ignored
    no_create[flags_arg + 1] = kSuid;
    c.push_back({name, nr, no_create, kAllow});
  }
  deny("openat2", 437, ENOSYS);
  // xattr-write: every write or removal, by path, link, fd and dirfd.
  for (auto [name, nr] :
       std::initializer_list<std::pair<const char*, int>>{{"setxattr", 188},
                                                          {"lsetxattr", 189},
                                                          {"fsetxattr", 190},
                                                          {"removexattr", 197},
                                                          {"lremovexattr", 198},
                                                          {"fremovexattr", 199},
                                                          {"setxattrat", 463},
                                                          {"removexattrat", 466}}) {
    deny(name, nr, EOPNOTSUPP);
  }
  // mount: the old and the new mount API.
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
    deny(name, nr);
  }
  // namespaces
  deny("unshare", 272);
  deny("setns", 308);
  for (uint64_t flag : std::initializer_list<uint64_t>{CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS,
                                                       CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID,
                                                       CLONE_NEWNET, 0x80 /*CLONE_NEWTIME*/}) {
    c.push_back({"clone", 56, {flag | SIGCHLD}, Errno(EPERM)});
  }
  c.push_back({"clone", 56, {CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_THREAD | SIGCHLD}, kAllow});
  deny("clone3", 435, ENOSYS);
  // tty-inject, with and without high bits in the request
  c.push_back({"ioctl", 16, {0, TIOCSTI}, Errno(EPERM)});
  c.push_back({"ioctl", 16, {0, 0xdead000000000000ull | TIOCSTI}, Errno(EPERM)});
  c.push_back({"ioctl", 16, {0, 0x541C /*TIOCLINUX*/}, Errno(EPERM)});
  c.push_back({"ioctl", 16, {0, TCGETS}, kAllow});
  // personality: each weakening bit, alone and with others; the query and
  // the bits reproducibility checks use stay.
  for (uint64_t bit : {0x0400000ull, 0x0100000ull, 0x0200000ull, 0x0800000ull, 0x8000000ull}) {
    c.push_back({"personality", 135, {bit}, Errno(EPERM)});
    for (int k = 0; k < 32; ++k) {  // bit set, one other clear: reaches every rule
      uint64_t other = uint64_t{1} << k;
      if (other != bit) {
        c.push_back({"personality", 135, {bit | (0xffffffffull & ~other)}, Errno(EPERM)});
      }
    }
  }
  c.push_back({"personality", 135, {0xffffffffull}, kAllow});
  c.push_back({"personality", 135, {0x0040000 /*ADDR_NO_RANDOMIZE*/}, kAllow});
  c.push_back({"personality", 135, {0x0020000 /*UNAME26*/}, kAllow});
  for (auto [name, nr] :
       std::initializer_list<std::pair<const char*, int>>{{"keyctl", 250},
                                                          {"add_key", 248},
                                                          {"request_key", 249},
                                                          {"bpf", 321},
                                                          {"perf_event_open", 298},
                                                          {"userfaultfd", 323},
                                                          {"io_uring_setup", 425},
                                                          {"io_uring_enter", 426},
                                                          {"io_uring_register", 427},
                                                          {"kexec_load", 246},
                                                          {"kexec_file_load", 320},
                                                          {"init_module", 175},
                                                          {"finit_module", 313},
                                                          {"delete_module", 176},
                                                          {"acct", 163},
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
                                                          {"nfsservctl", 180},
                                                          {"listen", 50}}) {
    deny(name, nr);
  }
  // Everyday calls stay allowed.
  for (auto [name, nr] : std::initializer_list<std::pair<const char*, int>>{
           {"read", 0}, {"write", 1}, {"execve", 59}, {"getxattr", 191}, {"listxattr", 194}}) {
    c.push_back({name, nr, {}, kAllow});
  }
  return c;
}

uint32_t Verdict(const std::vector<sock_filter>& prog, int nr, const std::vector<uint64_t>& args) {
  seccomp_data d = {};
  d.nr = nr;
  d.arch = AUDIT_ARCH_X86_64;
  for (size_t i = 0; i < args.size() && i < 6; ++i) d.args[i] = args[i];
  return Evaluate(prog, d);
}

std::vector<sock_filter> DefaultProgram() {
  SeccompSpec spec;
  spec.deny_listen = true;
  auto prog = CompileSeccomp(spec);
  EXPECT_TRUE(prog.ok()) << prog.error().Message();
  return prog.ok() ? *prog : std::vector<sock_filter>{};
}

uint32_t ActionOf(const SyscallRule& r) {
  return r.action == RuleAction::kKill ? SECCOMP_RET_KILL_PROCESS : Errno(r.errnum);
}

// The default program's rules: every group, and listen.
std::vector<SyscallRule> AllRules() {
  std::vector<SyscallRule> rules;
  for (const auto& g : RuleGroups()) rules.insert(rules.end(), g.rules.begin(), g.rules.end());
  rules.push_back({"listen", 50, RuleAction::kErrno, EPERM, {}, ""});
  return rules;
}

bool Satisfies(const std::vector<uint64_t>& args, const SyscallRule& r) {
  for (const auto& m : r.matches) {
    uint64_t v = m.index < args.size() ? args[m.index] : 0;
    if ((v & m.mask) != m.value) return false;
  }
  return true;
}

TEST(SeccompTable, EveryExpectedVerdictHolds) {
  auto prog = DefaultProgram();
  for (const Case& c : Cases()) {
    EXPECT_EQ(Verdict(prog, c.nr, c.args), c.expect)
        << c.syscall << " args[0..2]=" << (c.args.size() > 0 ? c.args[0] : 0) << ","
        << (c.args.size() > 1 ? c.args[1] : 0) << "," << (c.args.size() > 2 ? c.args[2] : 0);
  }
}

TEST(SeccompTable, CaseNumbersAreTheKernels) {
  for (const Case& c : Cases()) {
    int nr = seccomp_syscall_resolve_name(c.syscall);
    if (nr != __NR_SCMP_ERROR) {
      EXPECT_EQ(nr, c.nr) << c.syscall;
    }
  }
}

TEST(SeccompTable, FallbackNumbersMatchLibseccomp) {
  for (const SyscallRule& r : AllRules()) {
    int nr = seccomp_syscall_resolve_name(r.syscall);
    if (nr != __NR_SCMP_ERROR) {
      EXPECT_EQ(nr, r.x86_64_nr) << r.syscall;
    }
  }
}

TEST(SeccompTable, EveryTableEntryHasACase) {
  auto cases = Cases();
  for (const auto& g : RuleGroups()) {
    for (const SyscallRule& r : g.rules) {
      bool covered = false;
      for (const Case& c : cases) {
        covered =
            covered || (c.nr == r.x86_64_nr && c.expect == ActionOf(r) && Satisfies(c.args, r));
      }
      std::string cond;
      for (const auto& m : r.matches) {
        cond += " arg" + std::to_string(m.index) + "&" + std::to_string(m.mask) +
                "==" + std::to_string(m.value);
      }
      EXPECT_TRUE(covered) << "group " << g.name << ": rule " << r.syscall << cond
                           << " has no case in seccomp_rules_table_test.cc";
    }
  }
}

TEST(SeccompTable, EveryTableEntryFiresOnItsOwnArguments) {
  auto prog = DefaultProgram();
  for (const SyscallRule& r : AllRules()) {
    std::vector<uint64_t> args(6, 0);
    for (const auto& m : r.matches) args[m.index] |= m.value;
    EXPECT_EQ(Verdict(prog, r.x86_64_nr, args), ActionOf(r)) << r.syscall;
  }
}

TEST(SeccompTable, EachGroupAloneCoversItsCasesAndNoOthers) {
  auto cases = Cases();
  for (const auto& g : RuleGroups()) {
    SeccompSpec spec;
    spec.deny_groups = {g.name};
    auto prog = CompileSeccomp(spec);
    ASSERT_TRUE(prog.ok()) << prog.error().Message();
    std::set<int> mine;
    for (const auto& r : g.rules) mine.insert(r.x86_64_nr);
    for (const Case& c : cases) {
      uint32_t want = mine.count(c.nr) ? c.expect : kAllow;
      EXPECT_EQ(Verdict(*prog, c.nr, c.args), want) << "group " << g.name << ": " << c.syscall;
    }
  }
}

// The write watcher's list, checked against a list written from the
// kernel's syscall table (see watched_calls.h for how it was chosen).
const std::set<std::string> kPathWritingCalls = {
    "open",     "openat",  "creat",     "truncate",  "mkdir",     "mkdirat", "rmdir",   "unlink",
    "unlinkat", "rename",  "renameat",  "renameat2", "link",      "linkat",  "symlink", "symlinkat",
    "mknod",    "mknodat", "chmod",     "fchmodat",  "fchmodat2", "chown",   "lchown",  "fchownat",
    "utime",    "utimes",  "futimesat", "utimensat", "bind"};

// Where the open-like calls keep their flags (open(2), openat(2)); every
// other watched call is notified whatever its arguments.
const std::map<std::string, int> kFlagsArg = {{"open", 1}, {"openat", 2}};

TEST(WatchedCallsTable, IsExactlyThePathWritingCalls) {
  std::set<std::string> table;
  for (const WatchedCall& c : WatchedCalls()) {
    auto flags = kFlagsArg.find(c.name);
    EXPECT_EQ(c.flags_arg, flags == kFlagsArg.end() ? -1 : flags->second) << c.name;
    EXPECT_TRUE(table.insert(c.name).second) << c.name << " listed twice";
    EXPECT_TRUE(kPathWritingCalls.count(c.name)) << c.name << " is watched but has no test case";
    int nr = seccomp_syscall_resolve_name(c.name);
    if (nr != __NR_SCMP_ERROR) {
      EXPECT_EQ(nr, c.x86_64_nr) << c.name;
    }
  }
  for (const auto& name : kPathWritingCalls)
    EXPECT_TRUE(table.count(name)) << name << " is not watched";
}

TEST(WatchedCallsTable, EveryEntryNotifiesAndReadOnlyOpensDoNot) {
  auto prog = CompileWriteWatch();
  ASSERT_TRUE(prog.ok()) << prog.error().Message();
  for (const WatchedCall& c : WatchedCalls()) {
    std::vector<uint64_t> args(6, 0);
    if (c.flags_arg < 0) {
      EXPECT_EQ(Verdict(*prog, c.x86_64_nr, args), kNotify) << c.name;
      continue;
    }
    for (uint64_t bit : {uint64_t{O_WRONLY}, uint64_t{O_RDWR}, uint64_t{O_CREAT}, uint64_t{O_TRUNC},
                         uint64_t{__O_TMPFILE}}) {
      args[c.flags_arg] = bit | O_CLOEXEC;
      EXPECT_EQ(Verdict(*prog, c.x86_64_nr, args), kNotify) << c.name << " flags " << bit;
    }
    for (uint64_t flags : {uint64_t{O_RDONLY}, uint64_t{O_RDONLY | O_APPEND | O_CLOEXEC},
                           uint64_t{O_RDONLY | O_DIRECTORY | O_NOFOLLOW}}) {
      args[c.flags_arg] = flags;
      EXPECT_EQ(Verdict(*prog, c.x86_64_nr, args), kAllow) << c.name << " flags " << flags;
    }
  }
  // Calls that act on an fd only are not watched.
  for (int nr : {1 /*write*/, 77 /*ftruncate*/, 91 /*fchmod*/, 93 /*fchown*/}) {
    EXPECT_EQ(Verdict(*prog, nr, {}), kAllow) << nr;
  }
}

}  // namespace
}  // namespace nsbuild::sandbox
