// The compiled seccomp program, evaluated in userspace by a small classic-BPF
// interpreter: the rule set is checked without loading it into a kernel.
#include "sandbox/seccomp_rules.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <cstring>

#include "tests/unit/bpf_eval.h"

namespace nsbuild::sandbox {
namespace {

using testing::Evaluate;

class SeccompTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto prog = CompileSeccomp(SeccompSpec{});
    ASSERT_TRUE(prog.ok()) << prog.error().Message();
    prog_ = *prog;
  }
  uint32_t Call(int nr, std::vector<uint64_t> args = {}, uint32_t arch = AUDIT_ARCH_X86_64) {
    seccomp_data d = {};
    d.nr = nr;
    d.arch = arch;
    for (size_t i = 0; i < args.size(); ++i) d.args[i] = args[i];
    return Evaluate(prog_, d);
  }
  static uint32_t Errno(int e) { return SECCOMP_RET_ERRNO | static_cast<uint32_t>(e); }
  std::vector<sock_filter> prog_;
};

constexpr uint32_t kAllow = SECCOMP_RET_ALLOW;
constexpr uint32_t kKill = SECCOMP_RET_KILL_PROCESS;

TEST_F(SeccompTest, ChmodWithSetidBitsIsRefusedPlainChmodAllowed) {
  EXPECT_EQ(Call(90, {0, 04755}), Errno(EPERM));  // chmod
  EXPECT_EQ(Call(90, {0, 02755}), Errno(EPERM));
  EXPECT_EQ(Call(90, {0, 0755}), kAllow);
  EXPECT_EQ(Call(91, {3, 06755}), Errno(EPERM));         // fchmod
  EXPECT_EQ(Call(268, {0, 0, 04000}), Errno(EPERM));     // fchmodat
  EXPECT_EQ(Call(452, {0, 0, 04000, 0}), Errno(EPERM));  // fchmodat2, by number
  EXPECT_EQ(Call(452, {0, 0, 0644, 0}), kAllow);
}

TEST_F(SeccompTest, CreateModesOnlyMatterWhenCreating) {
  EXPECT_EQ(Call(257, {0, 0, O_CREAT | O_WRONLY, 04755}), Errno(EPERM));  // openat
  EXPECT_EQ(Call(257, {0, 0, O_RDONLY, 04755}), kAllow);             // garbage mode, no O_CREAT
  EXPECT_EQ(Call(2, {0, O_TMPFILE | O_RDWR, 02755}), Errno(EPERM));  // open O_TMPFILE
  EXPECT_EQ(Call(133, {0, S_IFREG | 04755, 0}), Errno(EPERM));       // mknod
  EXPECT_EQ(Call(437, {}), Errno(ENOSYS));                           // openat2: mode unreadable
}

TEST_F(SeccompTest, TerminalInjectionComparesLow32Bits) {
  EXPECT_EQ(Call(16, {0, TIOCSTI}), Errno(EPERM));
  EXPECT_EQ(Call(16, {0, TIOCSTI | (1ull << 32)}), Errno(EPERM));
  EXPECT_EQ(Call(16, {0, 0x541C | (0xffull << 40)}), Errno(EPERM));  // TIOCLINUX
  EXPECT_EQ(Call(16, {0, TCGETS}), kAllow);
}

TEST_F(SeccompTest, NamespacesAndMountsAreClosed) {
  EXPECT_EQ(Call(435), Errno(ENOSYS));              // clone3
  EXPECT_EQ(Call(56, {0x00010000 | 17}), kAllow);   // clone(CLONE_THREAD...)
  EXPECT_EQ(Call(56, {0x10000000}), Errno(EPERM));  // clone(CLONE_NEWUSER)
  EXPECT_EQ(Call(56, {0x00000080}), Errno(EPERM));  // clone(CLONE_NEWTIME)
  for (int nr : {165, 166, 155, 161, 428, 429, 430, 431, 432, 433, 442, 272, 308}) {
    EXPECT_EQ(Call(nr), Errno(EPERM)) << nr;
  }
}

TEST_F(SeccompTest, ForeignArchitecturesAndX32Die) {
  EXPECT_EQ(Call(20, {}, AUDIT_ARCH_I386), kKill);
  EXPECT_EQ(Call(0x40000000 | 39), kKill);  // x32 getpid
  EXPECT_EQ(Call(39), kAllow);              // native getpid
}

TEST_F(SeccompTest, PersonalityBitsThatWeakenMemoryAreRefused) {
  EXPECT_EQ(Call(135, {0x0400000}), Errno(EPERM));   // READ_IMPLIES_EXEC
  EXPECT_EQ(Call(135, {0x0100000}), Errno(EPERM));   // MMAP_PAGE_ZERO
  EXPECT_EQ(Call(135, {0xf0400000}), Errno(EPERM));  // high bits do not hide it
  EXPECT_EQ(Call(135, {0xfffffffe}), Errno(EPERM));  // all but one bit
  EXPECT_EQ(Call(135, {0xffffffff}), kAllow);        // the query
  EXPECT_EQ(Call(135, {0x0040000}), kAllow);         // ADDR_NO_RANDOMIZE
  EXPECT_EQ(Call(135, {0}), kAllow);                 // PER_LINUX
}

// The rule is "a weakening bit set, and not the query": the kernel reads 32
// bits, so the high half must change nothing. Every combination of the five
// weakening bits is tried with the other 27 bits clear, all set, all set but
// one (the values closest to the query), and a spread of patterns.
TEST_F(SeccompTest, PersonalityRefusesExactlyTheWeakeningValuesButTheQuery) {
  const uint64_t weakening[] = {0x0400000, 0x0100000, 0x0200000, 0x0800000, 0x8000000};
  uint64_t w_mask = 0;
  for (uint64_t b : weakening) w_mask |= b;
  std::vector<uint64_t> rest = {0,
                                0xffffffffull & ~w_mask,
                                0x0040000,
                                0x0020000,
                                0x8,
                                0x5555555555555555ull & ~w_mask,
                                0xaaaaaaaaull & ~w_mask};
  for (int k = 0; k < 32; ++k) {
    uint64_t bit = 1ull << k;
    if (!(bit & w_mask)) rest.push_back(0xffffffffull & ~w_mask & ~bit);
  }
  for (unsigned subset = 0; subset < 32; ++subset) {
    uint64_t w = 0;
    for (unsigned i = 0; i < 5; ++i) w |= (subset >> i & 1) ? weakening[i] : 0;
    for (uint64_t r : rest) {
      for (uint64_t high : {uint64_t{0}, uint64_t{0xffffffff00000000}}) {
        uint64_t arg = high | w | r;
        uint32_t seen = static_cast<uint32_t>(arg);
        bool refuse = (seen & w_mask) != 0 && seen != 0xffffffffu;
        EXPECT_EQ(Call(135, {arg}), refuse ? Errno(EPERM) : kAllow) << std::hex << arg;
      }
    }
  }
}

TEST_F(SeccompTest, KernelInterfacesAreRefused) {
  for (int nr : {250, 248, 249, 321, 298, 323, 425, 426, 427, 246, 320, 175, 313, 176}) {
    EXPECT_EQ(Call(nr), Errno(EPERM)) << nr;
  }
  EXPECT_EQ(Call(188), Errno(EOPNOTSUPP));  // setxattr
  EXPECT_EQ(Call(463), Errno(EOPNOTSUPP));  // setxattrat, by number
}

TEST(SeccompSpec, GroupsCanBeChosenAndUnknownOnesAreErrors) {
  SeccompSpec only_tty{true, {"tty-inject"}, true};
  auto prog = CompileSeccomp(only_tty);
  ASSERT_TRUE(prog.ok());
  seccomp_data d = {};
  d.arch = AUDIT_ARCH_X86_64;
  d.nr = 165;  // mount: not in this set
  EXPECT_EQ(Evaluate(*prog, d), kAllow);
  auto bad = CompileSeccomp(SeccompSpec{true, {"no-such-group"}, true});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().Message().find("unknown seccomp group 'no-such-group'"), std::string::npos);
  EXPECT_TRUE(CompileSeccomp(SeccompSpec{false, {}, true})->empty());
}

TEST(SeccompSpec, DescriptionNamesEveryGroup) {
  std::string text = DescribeSeccomp(SeccompSpec{});
  for (const auto& g : RuleGroups()) EXPECT_NE(text.find(g.name), std::string::npos) << g.name;
  EXPECT_NE(text.find("fchmodat2"), std::string::npos);
}

}  // namespace
}  // namespace nsbuild::sandbox
