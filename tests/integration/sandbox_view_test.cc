// The filesystem view: exactly what the policy declares, writable only where
// it says, and nothing of the caller's world unless bound.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <sstream>

#include "tests/integration/sandbox_test_util.h"

namespace nsbuild::testing {
namespace {

std::set<std::string> Lines(const std::string& text) {
  std::set<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) out.insert(line);
  }
  return out;
}

TEST(SandboxView, RootHoldsExactlyTheDeclaredView) {
  TempDir dir;
  std::string policy = dir.path() + "/tiny.json";
  std::ofstream(policy) << R"({"sandbox": {"filesystem": {
      "ro_bind": ["/usr"], "mirror_links": ["/bin", "/lib", "/lib64"],
      "tmpfs": ["/tmp"], "proc": true, "dev": true}}})";
  auto r = RunSh("ls -A /", {"--policy", policy});
  ASSERT_EQ(r.status, 0) << r.err;
  std::set<std::string> want = {"usr", "tmp", "proc", "dev"};
  for (const char* link : {"bin", "lib", "lib64"}) {
    struct stat st;
    if (lstat((std::string("/") + link).c_str(), &st) == 0) want.insert(link);
  }
  EXPECT_EQ(Lines(r.out), want);
}

TEST(SandboxView, WritesOutsideWritablePathsFail) {
  auto r = RunSh(
      "for p in /usr/nsb /etc/nsb /nsb /proc/sys/kernel/hostname /dev/nsb; do"
      "  (echo x > $p) 2>/dev/null && echo WROTE $p; done;"
      "mkdir /newdir 2>/dev/null && echo WROTE /newdir;"
      "echo ok > /tmp/f && cat /tmp/f");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "ok\n");
}

TEST(SandboxView, BindIsWritableAndRoBindIsNot) {
  TempDir rw, ro;
  // Run by root, the sandbox is an unprivileged uid: the writable dir must
  // be writable by it, as a user's own build dir would be.
  chmod(rw.path().c_str(), 0777);
  std::ofstream(ro.path() + "/data") << "host data\n";
  auto r =
      RunSh("echo made > /rw/out && cat /ro/data && (echo x > /ro/data) 2>/dev/null || echo denied",
            {"--bind", rw.path() + ":/rw", "--ro-bind", ro.path() + ":/ro"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "host data\ndenied\n");
  std::ifstream made(rw.path() + "/out");
  std::string text;
  std::getline(made, text);
  EXPECT_EQ(text, "made");
  std::ifstream data(ro.path() + "/data");
  std::getline(data, text);
  EXPECT_EQ(text, "host data");
}

TEST(SandboxView, HostSecretsAndCallerDirsAreNotVisible) {
  TempDir cwd;
  std::ofstream(cwd.path() + "/marker") << "secret\n";
  std::string script = "test -e " + cwd.path() +
                       "/marker && echo CWD-VISIBLE; "
                       "ls -A /root 2>/dev/null | head -1; ls -A /home; "
                       "cat /etc/shadow 2>/dev/null && echo SHADOW; ls -A /etc/ssh; "
                       "test -e /sys/kernel && echo SYS; echo done";
  // Run from inside the scratch dir, as a user would from their project.
  auto out = RunCommand({"/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", cwd.path(), NsbuildBin(),
                         "run", "--", "/bin/sh", "-c", script});
  EXPECT_EQ(out.status, 0) << out.err;
  EXPECT_EQ(out.out, "done\n");
}

TEST(SandboxView, ProcShowsOnlyTheSandboxesProcesses) {
  auto r = RunSh("ls /proc | grep -c '^[0-9]'");
  EXPECT_EQ(r.status, 0) << r.err;
  // PID 1 (nsbuild's init), sh, ls and grep at most.
  EXPECT_LE(std::stoi(r.out), 4);
  // Init is nsbuild itself (a fork, never exec'd) and not dumpable: its exe
  // link, a path back to the host binary, cannot be followed.
  auto one = RunSh("readlink /proc/1/exe >/dev/null 2>&1 && echo EXE-READABLE; echo done");
  EXPECT_EQ(one.out, "done\n");
}

TEST(SandboxView, TmpfsFlagAndChdir) {
  auto r = RunSh("pwd; echo x > /scratch/y && cat /scratch/y",
                 {"--tmpfs", "/scratch", "--chdir", "/scratch"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "/scratch\nx\n");
}

TEST(SandboxView, EnvironmentIsCleanPlusSetenv) {
  auto r = Nsbuild({"run", "--setenv", "FOO=bar", "--", "/usr/bin/env"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("FOO=bar\n"), std::string::npos);
  EXPECT_NE(r.out.find("PATH=/usr/local/bin:/usr/bin:/bin\n"), std::string::npos);
  EXPECT_EQ(r.out.find("NSBUILD_BIN"), std::string::npos);  // not on the allow-list
}

TEST(SandboxView, CpuCountPersonalityAndDomainCanBeSet) {
  auto r = RunSh("nproc; cat /proc/self/personality; domainname",
                 {"--cpus", "1", "--no-aslr", "--domainname", "example.org"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "1\n00040000\nexample.org\n");
  auto plain = RunSh("cat /proc/self/personality; domainname");
  EXPECT_EQ(plain.out, "00000000\n(none)\n");
}

TEST(SandboxView, HostnameAndNetworkAreOwn) {
  auto r = RunSh("hostname; cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' '",
                 {"--hostname", "builder7"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "builder7\nlo\n");
  auto none = RunSh("cat /proc/net/dev | tail -n +3 | wc -l", {"--net", "none"});
  EXPECT_EQ(none.out, "1\n");  // lo exists but stays down
}

}  // namespace
}  // namespace nsbuild::testing
