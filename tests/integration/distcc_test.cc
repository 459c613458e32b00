// The "distcc" network and `nsbuild build --distcc`, against a real distccd
// the test starts on a free loopback port: compile jobs reach that daemon
// through nsbuild's relay and nothing else is reachable; without the policy
// the daemon is unreachable and distcc falls back or fails as configured.
// Skipped when distcc is not installed (tests/deps.sh installs it).
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "tests/integration/build_util.h"
#include "tests/support/harness.h"

namespace nsbuild::testing {
namespace {

namespace fs = std::filesystem;

bool DistccInstalled() {
  return access("/usr/bin/distcc", X_OK) == 0 && access("/usr/bin/distccd", X_OK) == 0 &&
         access("/usr/lib/distcc/gcc", X_OK) == 0;
}

// A TCP port on 127.0.0.1 nobody listens on right now.
int FreePort() {
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a = {};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  close(s);
  return ntohs(a.sin_port);
}

bool Connectable(int port) {
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a = {};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(s);
  return ok;
}

// A scratch dir the sandbox's ids and distccd's user can traverse.
class OpenDir {
 public:
  OpenDir() { ::chmod(scratch_.path().c_str(), 0755); }
  ~OpenDir() { RunCommand({"chmod", "-R", "u+rwx", scratch_.path()}); }
  std::string operator/(const std::string& rel) const { return scratch_.path() + "/" + rel; }

 private:
  TempDir scratch_;
};

// distccd on 127.0.0.1:port, in its own process group (it preforks), logging
// every job; stopped with its whole group by the destructor.
class Distccd {
 public:
  explicit Distccd(const std::string& dir)
      : log_(dir + "/distccd.log"), tmp_(dir + "/distccd-tmp") {
    // Run by root, distccd drops to its own user: that user writes the log,
    // and its work files go to a TMPDIR of our own with the mode it needs
    // (the machine's /tmp need not be 1777).
    std::ofstream(log_).flush();
    ::chmod(log_.c_str(), 0666);
    ::mkdir(tmp_.c_str(), 01777);
    ::chmod(tmp_.c_str(), 01777);
    port_ = FreePort();
    pid_ = fork();
    if (pid_ == 0) {
      setpgid(0, 0);
      setenv("TMPDIR", tmp_.c_str(), 1);
      std::string port = std::to_string(port_);
      execl("/usr/bin/distccd", "distccd", "--daemon", "--no-detach", "--listen", "127.0.0.1",
            "--port", port.c_str(), "--allow", "127.0.0.0/8", "--jobs", "2", "--log-file",
            log_.c_str(), "--log-level", "info", static_cast<char*>(nullptr));
      _exit(127);
    }
    setpgid(pid_, pid_);
    for (int i = 0; i < 100 && !Connectable(port_); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  ~Distccd() {
    if (pid_ <= 0) return;
    kill(-pid_, SIGTERM);
    int status;
    waitpid(pid_, &status, 0);
  }
  int port() const { return port_; }
  std::string addr() const { return "127.0.0.1:" + std::to_string(port_); }
  // Jobs distccd compiled and answered ok. distccd logs a job after it has
  // answered, so the client may be done before the line is written: wait up
  // to 5 s for `at_least` of them.
  size_t CompiledOk(size_t at_least = 0) const {
    size_t n = Count(Read(log_), "COMPILE_OK");
    for (int i = 0; i < 100 && n < at_least; ++i) {
      ::usleep(50000);
      n = Count(Read(log_), "COMPILE_OK");
    }
    return n;
  }
  std::string log() const { return Read(log_); }
  bool listening() const { return Connectable(port_); }

 private:
  std::string log_;
  std::string tmp_;
  int port_ = 0;
  pid_t pid_ = -1;
};

class DistccTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!DistccInstalled()) GTEST_SKIP() << "distcc/distccd not installed (Debian package distcc)";
    daemon_ = std::make_unique<Distccd>(dir_ / "");
    ASSERT_TRUE(daemon_->listening()) << daemon_->log();
  }
  std::string Inside() const { return "127.0.0.2:" + std::to_string(daemon_->port()); }

  OpenDir dir_;
  std::unique_ptr<Distccd> daemon_;
};

// The shell of a sandbox that writes a C file and compiles it with distcc.
std::string CompileScript(const std::string& hosts, bool fallback) {
  return "printf 'int twice(int x) { return 2 * x; }\\n' > /tmp/t.c && mkdir -p /tmp/dcc && "
         "DISTCC_DIR=/tmp/dcc DISTCC_HOSTS='" +
         hosts + "' DISTCC_FALLBACK=" + (fallback ? "1" : "0") +
         " distcc gcc -c /tmp/t.c -o /tmp/t.o && test -s /tmp/t.o";
}

TEST_F(DistccTest, RunReachesTheDaemonOnlyThroughItsInsideAddress) {
  auto r = Nsbuild({"run", "--distcc", daemon_->addr() + "/2", "--json-status", dir_ / "st.json",
                    "--", "sh", "-c", CompileScript(Inside(), false)});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(daemon_->CompiledOk(1), 1u) << daemon_->log();
  auto st = nlohmann::json::parse(Read(dir_ / "st.json"));
  ASSERT_EQ(st["forwards"].size(), 1u) << st.dump();
  EXPECT_EQ(st["forwards"][0]["inside"], Inside());
  EXPECT_EQ(st["forwards"][0]["connections"], 1);
}

// Inside: one line per attempt, "ok" or the errno name.
constexpr const char* kProbe = R"(
import errno, socket, sys
def attempt(name, fn):
    try:
        fn()
        print(name, "ok")
    except OSError as e:
        print(name, errno.errorcode.get(e.errno, str(e.errno)))
def tcp(host, port):
    s = socket.socket(); s.settimeout(3); s.connect((host, port)); s.close()
def listen():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
def listen_unbound():
    s = socket.socket(); s.listen(1)
def abstract(name):
    s = socket.socket(socket.AF_UNIX); s.connect("\0" + name)
def udp():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.sendto(b"x", ("10.0.0.1", 53))
inside, daemon_port, host_port, abstract_name = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
attempt("forwarded", lambda: tcp(inside, daemon_port))
attempt("daemon-direct", lambda: tcp("127.0.0.1", daemon_port))
attempt("host-listener", lambda: tcp("127.0.0.1", host_port))
attempt("other-port", lambda: tcp(inside, host_port))
attempt("listen", listen)
attempt("listen-unbound", listen_unbound)
attempt("abstract", lambda: abstract(abstract_name))
attempt("udp-out", udp)
)";

// Holds a TCP listener and an abstract unix socket in the test's (the
// host's) namespaces, as something a build must not reach.
struct HostBait {
  int tcp = -1, unix_sock = -1, port = 0;
  std::string abstract_name = "nsbuild-distcc-test-" + std::to_string(getpid());
  HostBait() {
    tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a = {};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(tcp, reinterpret_cast<sockaddr*>(&a), sizeof a);
    listen(tcp, 4);
    socklen_t len = sizeof a;
    getsockname(tcp, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
    unix_sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un u = {};
    u.sun_family = AF_UNIX;
    std::memcpy(u.sun_path + 1, abstract_name.data(), abstract_name.size());
    bind(unix_sock, reinterpret_cast<sockaddr*>(&u),
         static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + abstract_name.size()));
    listen(unix_sock, 4);
  }
  ~HostBait() {
    close(tcp);
    close(unix_sock);
  }
};

std::map<std::string, std::string> ProbeLines(const std::string& out) {
  std::map<std::string, std::string> m;
  std::istringstream in(out);
  std::string name, result;
  while (in >> name >> result) m[name] = result;
  return m;
}

TEST_F(DistccTest, NothingButTheForwardedDaemonIsReachable) {
  HostBait bait;
  ASSERT_TRUE(Connectable(bait.port));  // reachable from outside the sandbox
  auto r =
      Nsbuild({"run", "--distcc", daemon_->addr(), "--", "python3", "-c", kProbe, "127.0.0.2",
               std::to_string(daemon_->port()), std::to_string(bait.port), bait.abstract_name});
  ASSERT_EQ(r.status, 0) << r.err;
  auto m = ProbeLines(r.out);
  EXPECT_EQ(m["forwarded"], "ok") << r.out;  // the one way out works
  for (const char* denied : {"daemon-direct", "host-listener", "other-port", "listen",
                             "listen-unbound", "abstract", "udp-out"}) {
    EXPECT_FALSE(m[denied].empty()) << denied << " not tried:\n" << r.out;
    EXPECT_NE(m[denied], "ok") << denied << " succeeded:\n" << r.out;
  }
  EXPECT_EQ(m["listen-unbound"], "EPERM") << r.out;  // the seccomp rule, on every kernel
}

TEST_F(DistccTest, WithoutThePolicyTheDaemonIsUnreachable) {
  // Fallback off: distcc fails, the daemon never hears of the job.
  auto r = Nsbuild({"run", "--", "sh", "-c", CompileScript(daemon_->addr(), false)});
  EXPECT_NE(r.status, 0) << r.err;
  // Fallback on: distcc compiles locally instead.
  r = Nsbuild({"run", "--", "sh", "-c", CompileScript(daemon_->addr(), true)});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(daemon_->CompiledOk(), 0u) << daemon_->log();
}

TEST_F(DistccTest, BadHostListsAreRefusedBeforeAnythingRuns) {
  const std::pair<const char*, const char*> cases[] = {
      {"localhost", "localhost means"},
      {"127.0.0.1:70000", "port must be"},
      {"127.0.0.1/0", "job limit"},
      {"user@10.0.0.1", "ssh hosts"},
      {"--randomize 10.0.0.1", "distcc options"},
      {"no-such-host.invalid", "cannot resolve"},
  };
  for (auto [hosts, why] : cases) {
    auto r = Nsbuild({"run", "--distcc", hosts, "--", "true"});
    EXPECT_EQ(r.status, 2) << hosts;
    EXPECT_NE(r.err.find(why), std::string::npos) << hosts << ": " << r.err;
  }
  auto r = Nsbuild({"run", "--distcc", daemon_->addr(), "--net", "none", "--", "true"});
  EXPECT_EQ(r.status, 2) << r.err;
}

// A recipe of generic implementations compiling three C files with `cc`.
void WriteCRecipe(const std::string& dir) {
  fs::create_directories(dir + "/src");
  for (int i = 0; i < 3; ++i) {
    std::ofstream(dir + "/src/f" + std::to_string(i) + ".c")
        << "int f" << i << "(int x) { return x + " << i << "; }\n";
  }
  std::ofstream(dir + "/r.json") << R"({"name": "dc", "version": "1", "source": "src",
    "implementations": ["a", "b"],
    "define_implementations": {"a": {"program": "/bin/sh"}, "b": {"program": "/bin/sh"}},
    "phases": {"compile": "for f in f0 f1 f2; do cc -c $f.c -o $BUILD_DIR/$f.o || exit 1; done",
               "install": "cp $BUILD_DIR/*.o $D/"}})";
}

TEST_F(DistccTest, BuildSendsCompileJobsToTheDaemonAndCountsThem) {
  WriteCRecipe(dir_ / "p");
  auto r = Nsbuild({"build", dir_ / "p/r.json", "--work-dir", dir_ / "w", "--distcc",
                    daemon_->addr() + "/2", "--report", dir_ / "report.json"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(daemon_->CompiledOk(6), 6u) << daemon_->log();  // 3 files x 2 implementations
  auto rep = nlohmann::json::parse(Read(dir_ / "report.json"));
  EXPECT_EQ(rep["distcc"]["remote_compiles"], 6) << rep["distcc"].dump();
  EXPECT_EQ(rep["distcc"]["local_compiles"], 0);
  EXPECT_EQ(rep["distcc"]["daemon_connections"], 6);
  // -j defaults to the local CPUs plus the daemon's two slots.
  EXPECT_EQ(rep["jobs"], static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN)) + 2);
  EXPECT_NE(r.err.find("distcc: 6 of 6 compile jobs remote, 0 local"), std::string::npos) << r.err;
  for (const char* impl : {"a", "b"}) {
    EXPECT_TRUE(fs::exists(dir_ / ("w/targets/" + std::string(impl) + "/image/f2.o")));
  }
  // Again in the same work dir: this run's jobs only, not the last run's too.
  r = Nsbuild({"build", dir_ / "p/r.json", "--work-dir", dir_ / "w", "--distcc",
               daemon_->addr() + "/2", "--report", dir_ / "report.json"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(daemon_->CompiledOk(12), 12u);
  rep = nlohmann::json::parse(Read(dir_ / "report.json"));
  EXPECT_EQ(rep["distcc"]["remote_compiles"], 6) << rep["distcc"].dump();
}

TEST_F(DistccTest, DeadDaemonFallsBackInBuildAndFailsInVerify) {
  WriteCRecipe(dir_ / "p");
  std::string dead = "127.0.0.1:" + std::to_string(FreePort());
  auto r = Nsbuild({"build", dir_ / "p/r.json", "--work-dir", dir_ / "w", "--distcc", dead,
                    "--report", dir_ / "report.json"});
  ASSERT_EQ(r.status, 0) << r.err;
  auto rep = nlohmann::json::parse(Read(dir_ / "report.json"));
  EXPECT_EQ(rep["distcc"]["remote_compiles"], 0) << rep["distcc"].dump();
  EXPECT_EQ(rep["distcc"]["local_compiles"], 6) << rep["distcc"].dump();
  // verify sets DISTCC_FALLBACK=0: the control build fails instead.
  r = Nsbuild({"verify", dir_ / "p/r.json", "--work-dir", dir_ / "v", "--distcc", dead});
  EXPECT_EQ(r.status, 2) << r.err;
}

TEST(DistccCext, ExampleBuildsWithDistccAndImports) {
  if (!DistccInstalled()) GTEST_SKIP() << "distcc/distccd not installed (Debian package distcc)";
  auto impls = nlohmann::json::parse(Nsbuild({"impls", "--json"}).out);
  bool dev = false;
  for (const auto& i : impls) dev = dev || (i["name"] == "python3.11" && i["dev_headers"] == true);
  if (!dev) GTEST_SKIP() << "needs python3.11 with headers (python3-dev)";
  OpenDir dir;
  Distccd daemon(dir / "");
  ASSERT_TRUE(daemon.listening()) << daemon.log();
  auto r =
      Nsbuild({"build", SourceDir() + "/examples/cext/recipe.json", "--impl", "python3.11",
               "--work-dir", dir / "w", "--distcc", daemon.addr(), "--report", dir / "r.json"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_GE(daemon.CompiledOk(1), 1u) << daemon.log();
  EXPECT_NE(daemon.log().find("_speedups.c"), std::string::npos) << daemon.log();
  auto rep = nlohmann::json::parse(Read(dir / "r.json"));
  EXPECT_EQ(rep["distcc"]["remote_compiles"], daemon.CompiledOk()) << rep["distcc"].dump();
  std::string site;
  for (const auto& e : fs::recursive_directory_iterator(dir / "w/targets/python3.11/image")) {
    if (e.path().filename() == "fastsum") site = e.path().parent_path().string();
  }
  ASSERT_FALSE(site.empty());
  auto imp = RunCommand(
      {"/usr/bin/python3.11", "-c", "import fastsum; print(fastsum.sum_squares(range(10)))"},
      {"PYTHONPATH=" + site});
  EXPECT_EQ(imp.out, "285\n") << imp.err;
}

}  // namespace
}  // namespace nsbuild::testing
