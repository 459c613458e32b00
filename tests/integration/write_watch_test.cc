// Writes outside the writable paths are denied and reported with the path
// the process meant, whatever way it tried: static binaries, raw syscalls,
// relative paths, dirfds, renames, links, redirections, chmod.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/integration/sandbox_test_util.h"

namespace nsbuild::testing {
namespace {

struct Watched {
  CommandResult result;
  nlohmann::json status;
  std::vector<std::pair<std::string, std::string>> violations;  // op, path
};

Watched RunWatched(const std::vector<std::string>& command, std::vector<std::string> opts = {}) {
  TempDir dir;
  std::string status_file = dir.path() + "/status.json";
  std::vector<std::string> args = {"run", "--report-writes", "--json-status", status_file};
  args.insert(args.end(), opts.begin(), opts.end());
  args.push_back("--");
  args.insert(args.end(), command.begin(), command.end());
  Watched w;
  w.result = Nsbuild(args);
  std::ifstream in(status_file);
  if (in) w.status = nlohmann::json::parse(in);
  for (const auto& v : w.status.value("write_violations", nlohmann::json::array())) {
    w.violations.emplace_back(v["op"], v["path"]);
  }
  return w;
}

Watched Sh(const std::string& script, std::vector<std::string> opts = {}) {
  return RunWatched({"/bin/sh", "-c", script}, std::move(opts));
}

using Pairs = std::vector<std::pair<std::string, std::string>>;

TEST(WriteWatch, ShellRedirectionRelativePathAndMkdir) {
  auto w = Sh(
      "echo x > /usr/lib/nsb-evil; cd /usr && echo y > share/nsb-rel; mkdir -p /etc/nsb/sub; true");
  EXPECT_EQ(w.result.status, 0) << w.result.err;
  EXPECT_EQ(w.violations, (Pairs{{"openat(O_WRONLY|O_CREAT|O_TRUNC)", "/usr/lib/nsb-evil"},
                                 {"openat(O_WRONLY|O_CREAT|O_TRUNC)", "/usr/share/nsb-rel"},
                                 {"mkdir", "/etc/nsb"}}));
  EXPECT_NE(w.result.err.find("ACCESS VIOLATION SUMMARY"), std::string::npos);
}

TEST(WriteWatch, RawSyscallsDirfdsRenameLinksChmod) {
  auto w = RunWatched({"/usr/bin/python3", "-c", std::string(kPyPrelude) + R"(
p = lambda s: ctypes.c_char_p(s.encode())
print(sys_call(257, -100 & (2**64 - 1), p('/usr/raw-openat'), os.O_WRONLY | os.O_CREAT, 0o644))
d = os.open('/etc', os.O_RDONLY | os.O_DIRECTORY)
print(sys_call(257, d, p('dirfd-file'), os.O_RDWR | os.O_CREAT, 0o644))
open('/tmp/mine', 'w').write('x')
print(sys_call(82, p('/tmp/mine'), p('/etc/hostname')))   # rename over a host file
print(sys_call(88, p('/tmp/mine'), p('/etc/nsb-symlink'))) # symlink
print(sys_call(86, p('/tmp/mine'), p('/etc/nsb-hardlink'))) # link
print(sys_call(90, p('/etc/hostname'), 0o600))             # chmod
print(sys_call(263, -100 & (2**64 - 1), p('/etc/hostname'), 0))  # unlinkat
)"});
  EXPECT_EQ(w.result.status, 0) << w.result.err;
  EXPECT_EQ(w.result.out, "EACCES\nEACCES\nEACCES\nEACCES\nEACCES\nEACCES\nEACCES\n");
  EXPECT_EQ(w.violations, (Pairs{{"openat(O_WRONLY|O_CREAT)", "/usr/raw-openat"},
                                 {"openat(O_RDWR|O_CREAT)", "/etc/dirfd-file"},
                                 {"rename", "/tmp/mine -> /etc/hostname"},
                                 {"symlink", "/etc/nsb-symlink"},
                                 {"link", "/etc/nsb-hardlink"},
                                 {"chmod", "/etc/hostname"},
                                 {"unlinkat", "/etc/hostname"}}));
}

TEST(WriteWatch, StaticBinaryIsCaughtToo) {
  TempDir dir;
  std::string src = dir.path() + "/w.c";
  std::ofstream(src)
      << "#include <fcntl.h>\n#include <unistd.h>\n"
         "int main(void) { int fd = open(\"/usr/lib/nsb-static\", O_WRONLY | O_CREAT, 0644);\n"
         "  return fd < 0 ? 3 : 0; }\n";
  auto cc = RunCommand({"cc", "-static", "-O1", "-o", dir.path() + "/w", src});
  if (cc.status != 0) GTEST_SKIP() << "no static libc here: " << cc.err;
  auto w = RunWatched({"/t/w"}, {"--ro-bind", dir.path() + ":/t"});
  EXPECT_EQ(w.result.status, 3);
  EXPECT_EQ(w.violations, (Pairs{{"openat(O_WRONLY|O_CREAT)", "/usr/lib/nsb-static"}}));
}

TEST(WriteWatch, SymlinkOutOfAWritableDirIsNamedByItsTarget) {
  TempDir work;
  chmod(work.path().c_str(), 0777);
  auto w = Sh("cd /work && ln -s /usr/lib escape && echo x > escape/nsb-through",
              {"--bind", work.path() + ":/work"});
  EXPECT_EQ(w.violations, (Pairs{{"openat(O_WRONLY|O_CREAT|O_TRUNC)", "/usr/lib/nsb-through"}}));
}

TEST(WriteWatch, LegitimateWritesAndReadsAreNotReported) {
  TempDir work;
  chmod(work.path().c_str(), 0777);
  auto w =
      Sh("cd /work && echo a > f && mkdir -p d/e && mv f d/g && ln -s g d/h && rm -r d;"
         " echo b > /tmp/t; echo c > /dev/null; mkdir -p /usr/lib; "
         " for i in 1 2 3 4 5 6 7 8 9 10; do cat /etc/passwd /etc/hostname >/dev/null; done",
         {"--bind", work.path() + ":/work"});
  EXPECT_EQ(w.result.status, 0) << w.result.err;
  EXPECT_TRUE(w.violations.empty()) << w.result.err;
  EXPECT_EQ(w.result.err.find("ACCESS VIOLATION"), std::string::npos);
}

TEST(WriteWatch, ReadOnlyOpensNeverLeaveTheKernel) {
  auto w =
      Sh("for i in 1 2 3 4 5 6 7 8 9 10; do cat /etc/passwd /etc/hostname /usr/lib/os-release "
         ">/dev/null; done");
  ASSERT_EQ(w.result.status, 0) << w.result.err;
  // The shell's own redirections to /dev/null are the only watched opens.
  EXPECT_LE(w.status["write_notifications"].get<int>(), 10);
}

TEST(WriteWatch, IoUringCannotGoAround) {
  auto w = RunWatched(
      {"/usr/bin/python3", "-c",
       std::string(kPyPrelude) + "print(sys_call(425, 8, ctypes.create_string_buffer(120)))"});
  EXPECT_EQ(w.result.out, "EPERM\n");
}

TEST(WriteWatch, CaptureModeLetsStrayFileWritesSucceedIntoItsDir) {
  TempDir scratch;
  std::string dir = scratch.path() + "/capture";
  auto w =
      Sh("echo hi > /etc/nsb-captured && echo a >> /usr/lib/nsb-log && echo b >> /usr/lib/nsb-log "
         "&& echo ok;"
         "mkdir /etc/nsb-dir || echo mkdir-denied; echo x > /etc/nsb-nodir/f || echo nodir-denied",
         {"--capture-writes", dir});
  EXPECT_EQ(w.result.status, 0) << w.result.err;
  EXPECT_EQ(w.result.out, "ok\nmkdir-denied\nnodir-denied\n");
  EXPECT_EQ(Read(dir + "/etc/nsb-captured"), "hi\n");
  EXPECT_EQ(Read(dir + "/usr/lib/nsb-log"), "a\nb\n");
  EXPECT_FALSE(std::filesystem::exists("/etc/nsb-captured"));
  EXPECT_FALSE(std::filesystem::exists("/usr/lib/nsb-log"));
  // Every one is still a violation; only the file opens were captured.
  std::vector<bool> captured;
  for (const auto& v : w.status["write_violations"]) captured.push_back(v["captured"]);
  EXPECT_EQ(captured, (std::vector<bool>{true, true, true, false, false}));
  EXPECT_EQ(w.violations[1], (std::pair<std::string, std::string>{
                                 "openat(O_WRONLY|O_CREAT|O_APPEND)", "/usr/lib/nsb-log"}));
  EXPECT_NE(w.result.err.find("(captured)"), std::string::npos) << w.result.err;
}

TEST(WriteWatch, CaptureModeCatchesAStaticBinarysRawWrite) {
  TempDir dir;
  std::string src = dir.path() + "/w.c";
  std::ofstream(src) << "#include <fcntl.h>\n#include <unistd.h>\n#include <sys/syscall.h>\n"
                        "int main(void) { int fd = syscall(SYS_openat, AT_FDCWD, "
                        "\"/usr/lib/nsb-static-cap\", O_WRONLY | O_CREAT, 0644);\n"
                        "  return fd >= 0 && write(fd, \"static\\n\", 7) == 7 ? 0 : 1; }\n";
  auto cc = RunCommand({"cc", "-static", "-O1", "-o", dir.path() + "/w", src});
  if (cc.status != 0) GTEST_SKIP() << "no static libc here: " << cc.err;
  auto w = RunWatched(
      {"/t/w"}, {"--capture-writes", dir.path() + "/capture", "--ro-bind", dir.path() + ":/t"});
  EXPECT_EQ(w.result.status, 0) << w.result.err;
  EXPECT_EQ(Read(dir.path() + "/capture/usr/lib/nsb-static-cap"), "static\n");
  EXPECT_FALSE(std::filesystem::exists("/usr/lib/nsb-static-cap"));
}

}  // namespace
}  // namespace nsbuild::testing
