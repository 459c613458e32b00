// Every entry of the write watcher's list (sandbox/watched_calls.cc), driven
// through the real watcher: each call is made by raw syscall number at a
// path outside the writable roots, must fail with EACCES, and must be
// reported under its own name with the path it meant. The cases are keyed
// by name; a watched call without a case, or a case whose call left the
// list, fails EveryWatchedCallHasACase.
#include "sandbox/watched_calls.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "tests/integration/sandbox_test_util.h"

namespace nsbuild::testing {
namespace {

struct WatchedCase {
  std::string call;  // Python: sys_call(...) with the helpers below
  std::string path;  // the violation's path as reported
};

// F: AT_FDCWD as an unsigned long; p(s): a C string; /tmp/src exists.
const std::map<std::string, WatchedCase>& Cases() {
  static const std::map<std::string, WatchedCase> cases = {
      {"open",
       {"sys_call(2, p('/etc/nsb-open'), os.O_WRONLY | os.O_CREAT, 0o644)", "/etc/nsb-open"}},
      {"openat",
       {"sys_call(257, F, p('/etc/nsb-openat'), os.O_RDWR | os.O_CREAT, 0o644)",
        "/etc/nsb-openat"}},
      {"creat", {"sys_call(85, p('/etc/nsb-creat'), 0o644)", "/etc/nsb-creat"}},
      {"truncate", {"sys_call(76, p('/etc/hostname'), 0)", "/etc/hostname"}},
      {"mkdir", {"sys_call(83, p('/etc/nsb-mkdir'), 0o755)", "/etc/nsb-mkdir"}},
      {"mkdirat", {"sys_call(258, F, p('/etc/nsb-mkdirat'), 0o755)", "/etc/nsb-mkdirat"}},
      {"rmdir", {"sys_call(84, p('/etc/nsb-rmdir'))", "/etc/nsb-rmdir"}},
      {"unlink", {"sys_call(87, p('/etc/hostname'))", "/etc/hostname"}},
      {"unlinkat", {"sys_call(263, F, p('/etc/hostname'), 0)", "/etc/hostname"}},
      {"rename",
       {"sys_call(82, p('/tmp/src'), p('/etc/nsb-rename'))", "/tmp/src -> /etc/nsb-rename"}},
      {"renameat",
       {"sys_call(264, F, p('/tmp/src'), F, p('/etc/nsb-renameat'))",
        "/tmp/src -> /etc/nsb-renameat"}},
      {"renameat2",
       {"sys_call(316, F, p('/tmp/src'), F, p('/etc/nsb-renameat2'), 0)",
        "/tmp/src -> /etc/nsb-renameat2"}},
      {"link", {"sys_call(86, p('/tmp/src'), p('/etc/nsb-link'))", "/etc/nsb-link"}},
      {"linkat",
       {"sys_call(265, F, p('/tmp/src'), F, p('/etc/nsb-linkat'), 0)", "/etc/nsb-linkat"}},
      {"symlink", {"sys_call(88, p('/tmp/src'), p('/etc/nsb-symlink'))", "/etc/nsb-symlink"}},
      {"symlinkat",
       {"sys_call(266, p('/tmp/src'), F, p('/etc/nsb-symlinkat'))", "/etc/nsb-symlinkat"}},
      {"mknod", {"sys_call(133, p('/etc/nsb-mknod'), 0o10644, 0)", "/etc/nsb-mknod"}},
      {"mknodat", {"sys_call(259, F, p('/etc/nsb-mknodat'), 0o10644, 0)", "/etc/nsb-mknodat"}},
      {"chmod", {"sys_call(90, p('/etc/hostname'), 0o600)", "/etc/hostname"}},
      {"fchmodat", {"sys_call(268, F, p('/etc/hostname'), 0o600)", "/etc/hostname"}},
      {"fchmodat2", {"sys_call(452, F, p('/etc/hostname'), 0o600, 0)", "/etc/hostname"}},
      {"chown", {"sys_call(92, p('/etc/hostname'), M, M)", "/etc/hostname"}},
      {"lchown", {"sys_call(94, p('/etc/hostname'), M, M)", "/etc/hostname"}},
      {"fchownat", {"sys_call(260, F, p('/etc/hostname'), M, M, 0)", "/etc/hostname"}},
      {"utime", {"sys_call(132, p('/etc/hostname'), 0)", "/etc/hostname"}},
      {"utimes", {"sys_call(235, p('/etc/hostname'), 0)", "/etc/hostname"}},
      {"futimesat", {"sys_call(261, F, p('/etc/hostname'), 0)", "/etc/hostname"}},
      {"utimensat", {"sys_call(280, F, p('/etc/hostname'), 0, 0)", "/etc/hostname"}},
      {"bind", {"bind_unix('/etc/nsb-bind')", "/etc/nsb-bind"}},
  };
  return cases;
}

TEST(WatchedCalls, EveryWatchedCallHasACase) {
  std::set<std::string> listed;
  for (const auto& c : sandbox::WatchedCalls()) {
    listed.insert(c.name);
    EXPECT_TRUE(Cases().count(c.name))
        << c.name << " is watched but watched_calls_test.cc has no case";
  }
  for (const auto& [name, c] : Cases()) {
    EXPECT_TRUE(listed.count(name)) << name << " has a case but is no longer watched";
  }
}

TEST(WatchedCalls, EachIsDeniedAndReportedUnderItsName) {
  std::string py = std::string(kPyPrelude) + R"(
import socket
p = lambda s: ctypes.c_char_p(s.encode())
F = -100 & (2**64 - 1)
M = 2**32 - 1
open('/tmp/src', 'w').write('x')
def bind_unix(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.bind(path)
        return 'ok'
    except OSError as e:
        return errno.errorcode[e.errno]
)";
  for (const auto& [name, c] : Cases()) py += "print('" + name + "', " + c.call + ")\n";
  TempDir dir;
  std::string status_file = dir.path() + "/status.json";
  auto r = Nsbuild(
      {"run", "--report-writes", "--json-status", status_file, "--", "/usr/bin/python3", "-c", py});
  ASSERT_EQ(r.status, 0) << r.err;
  std::string want_out;
  for (const auto& [name, c] : Cases()) want_out += name + " EACCES\n";
  EXPECT_EQ(r.out, want_out);
  std::ifstream in(status_file);
  ASSERT_TRUE(in) << "no status file";
  auto status = nlohmann::json::parse(in);
  std::set<std::pair<std::string, std::string>> reported;  // call name, path
  for (const auto& v : status.value("write_violations", nlohmann::json::array())) {
    std::string op = v["op"];
    reported.insert({op.substr(0, op.find('(')), v["path"]});
  }
  for (const auto& [name, c] : Cases()) {
    EXPECT_TRUE(reported.count({name, c.path})) << name << " " << c.path << " was not reported";
  }
}

}  // namespace
}  // namespace nsbuild::testing
