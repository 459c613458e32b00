// The host-side suite, reading and printing: what root does around a sandbox
// with the bytes the sandbox wrote. Each case plays a hostile build and then
// checks a sentinel on the host side: the terminal stream nsbuild printed
// (no raw escape or control bytes, no forged line of ours), nsbuild's own
// peak RSS, that nsbuild returned at all (a fifo must not hang it), a host
// file it must not have read, and what capture mode left on the host.
// tests/security/README.md, "Host-side suite: reading and printing", maps
// each case to what stops it.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/support/harness.h"

namespace nsbuild::testing {
namespace {

namespace fs = std::filesystem;

// What an operator's terminal would have received, and what nsbuild cost.
struct Observed {
  int status = -1;  // exit status, 128+signal; -1 when it had to be killed
  bool timed_out = false;
  std::string stream;    // stdout and stderr, interleaved as on a terminal
  long max_rss_kib = 0;  // nsbuild's own peak RSS (its sandboxes are not its children)
};

// Runs nsbuild with one pipe for stdout and stderr, killing it after
// `timeout` seconds: a hang is a failure, not a stuck test.
Observed RunNsbuild(const std::vector<std::string>& args, double timeout = 300) {
  Observed o;
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) return o;
  std::vector<std::string> argv = {NsbuildBin()};
  argv.insert(argv.end(), args.begin(), args.end());
  pid_t pid = fork();
  if (pid == 0) {
    dup2(p[1], 1);
    dup2(p[1], 2);
    int null = open("/dev/null", O_RDONLY);
    dup2(null, 0);
    std::vector<char*> a;
    for (auto& s : argv) a.push_back(s.data());
    a.push_back(nullptr);
    execv(a[0], a.data());
    _exit(127);
  }
  close(p[1]);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout);
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      o.timed_out = true;
      kill(pid, SIGKILL);
      break;
    }
    pollfd pfd = {p[0], POLLIN, 0};
    if (poll(&pfd, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[65536];
    ssize_t n = read(p[0], buf, sizeof buf);
    if (n <= 0) break;
    if (o.stream.size() < (size_t{64} << 20)) o.stream.append(buf, static_cast<size_t>(n));
  }
  close(p[0]);
  int status = 0;
  rusage ru = {};
  wait4(pid, &status, 0, &ru);
  o.max_rss_kib = ru.ru_maxrss;
  o.status = o.timed_out ? -1 : WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return o;
}

// The first raw control byte a terminal would act on, or "" if there is none:
// C0 but newline and tab, DEL, and C1 (as UTF-8 U+0080..U+009F or as a lone
// byte, which 8-bit terminals read as CSI/OSC).
std::string RawControl(const std::string& s) {
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    bool c0 = (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f;
    bool c1_utf8 = c == 0xc2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
                   static_cast<unsigned char>(s[i + 1]) <= 0x9f;
    bool lone_c1 =
        c >= 0x80 && c <= 0x9f && (i == 0 || static_cast<unsigned char>(s[i - 1]) < 0xc2);
    if (c0 || c1_utf8 || lone_c1) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "byte 0x%02x at offset %zu", c, i);
      return buf;
    }
  }
  return "";
}

bool HasLineStartingWith(const std::string& text, const std::string& start) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(start, 0) == 0) return true;
  }
  return false;
}

std::string ShellRecipe(const std::string& compile) {
  nlohmann::json r = {{"name", "t"},
                      {"version", "1"},
                      {"source", "src"},
                      {"implementations", {"a"}},
                      {"define_implementations", {{"a", {{"program", "/bin/sh"}}}}},
                      {"phases", {{"compile", compile}}}};
  return r.dump();
}

// A bound, not a timing: nsbuild holds a plan, a few buffers and the bounded
// violation records, whatever a build writes or prints.
constexpr long kRssBoundKib = RssBoundKib(64 * 1024);

// Bytes an attacker would send a terminal: an OSC 52 clipboard write, a
// window title, a CSI clear screen, an 8-bit CSI, a lone C1 byte, and a
// newline followed by a line that looks like nsbuild's own.
constexpr const char* kHostilePrintf =
    R"(printf '\033]52;c;cm0gLXJmIH4K\007\033]0;pwned\007\033[2J\302\233\2331m\nnsbuild: FORGED all clean\n')";

// Escape sequences, newlines and invalid UTF-8 in a denied path and in the
// command line: the violation summary shows them as text on one line each.
TEST(HostOutput, ViolationPathAndCommandLineAreEscaped) {
  TempDir dir;
  // The command's own stderr is the operator's terminal in `nsbuild run`
  // (as when running it directly): silenced, so only nsbuild's lines count.
  std::string script = std::string("exec 2>/dev/null; p=$(") + kHostilePrintf +
                       "); echo x > \"/usr/lib/evil$p\"; "
                       "echo y > \"/usr/lib/$(printf '\\377\\376')bad\"; true";
  auto o = RunNsbuild({"run", "--report-writes", "--json-status", dir / "status.json", "--",
                       "/bin/sh", "-c", script,
                       std::string("argv-with-escape\x1b]52;c;eA==\x07\nnsbuild: FORGED argv")});
  EXPECT_EQ(o.status, 0) << o.stream;
  EXPECT_EQ(RawControl(o.stream), "") << o.stream;
  EXPECT_FALSE(HasLineStartingWith(o.stream, "nsbuild: FORGED")) << o.stream;
  EXPECT_NE(o.stream.find("/usr/lib/evil\\x1b]52;c;cm0gLXJmIH4K\\x07"), std::string::npos)
      << o.stream;
  EXPECT_NE(o.stream.find("\\nnsbuild: FORGED"), std::string::npos) << o.stream;
  // The JSON keeps the exact bytes where they are valid UTF-8 and stays JSON.
  auto j = nlohmann::json::parse(Read(dir / "status.json"));
  ASSERT_EQ(j["write_violations"].size(), 2u) << j.dump(2);
  EXPECT_EQ(j["write_violations"][0]["path"].get<std::string>().find("/usr/lib/evil\x1b]52;"), 0u);
}

// A stray write to a path that is not UTF-8 would make nlohmann's dump throw
// and lose the report; it stays a valid JSON document.
TEST(HostOutput, InvalidUtf8PathKeepsTheBuildReportValidJson) {
  TempDir dir;
  Write(dir / "src/x", "");
  Write(dir / "r.json", ShellRecipe("echo x > /usr/lib/$(printf '\\377\\376\\300\\257'); true"));
  auto o = RunNsbuild({"build", dir / "r.json", "--work-dir", dir / "w", "--report",
                       dir / "report.json", "--trace", dir / "trace.json"});
  EXPECT_EQ(o.status, 1) << o.stream;  // the default policy fails a build that wrote outside
  EXPECT_EQ(RawControl(o.stream), "") << o.stream;
  EXPECT_NE(o.stream.find("/usr/lib/\\xff\\xfe\\xc0\\xaf"), std::string::npos) << o.stream;
  nlohmann::json report;
  ASSERT_NO_THROW(report = nlohmann::json::parse(Read(dir / "report.json")))
      << Read(dir / "report.json");
  std::string path;
  for (const auto& sp : report["sub_phases"]) {
    if (sp.contains("writes") && !sp["writes"]["violations"].empty())
      path = sp["writes"]["violations"][0]["path"];
  }
  EXPECT_EQ(path, "/usr/lib/\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");  // U+FFFD each
  EXPECT_TRUE(nlohmann::json::accept(Read(dir / "trace.json")));
}

// A failing phase's log tail, and the same output streamed with -v: escape
// sequences shown as text, every line marked as the sandbox's.
TEST(HostOutput, FailingLogTailAndStreamedOutputAreEscaped) {
  TempDir dir;
  Write(dir / "src/x", "");
  Write(dir / "r.json", ShellRecipe(std::string(kHostilePrintf) + "; exit 3"));
  for (std::string verbosity : {"", "-v"}) {
    std::vector<std::string> args = {"build", dir / "r.json", "--work-dir", dir / "w"};
    if (!verbosity.empty()) args.push_back(verbosity);
    auto o = RunNsbuild(args);
    EXPECT_EQ(o.status, 1) << o.stream;
    EXPECT_EQ(RawControl(o.stream), "") << verbosity << o.stream;
    EXPECT_FALSE(HasLineStartingWith(o.stream, "nsbuild: FORGED")) << verbosity << o.stream;
    EXPECT_NE(o.stream.find("a:compile| nsbuild: FORGED all clean"), std::string::npos) << o.stream;
    EXPECT_NE(o.stream.find("\\x1b]52;c;cm0gLXJmIH4K\\x07"), std::string::npos) << o.stream;
  }
}

// 200k denied writes with long paths from a process with a long command
// line: nsbuild keeps 256 records, counts the rest, and its RSS stays small.
TEST(HostOutput, DeniedWriteFloodKeepsRssBounded) {
  TempDir dir;
  std::string py =
      "import os, sys\n"
      "long = 'd' * 200\n"
      "for i in range(200000):\n"
      "    try:\n"
      "        os.close(os.open('/usr/lib/flood-%d-%s' % (i, long), os.O_WRONLY | os.O_CREAT, "
      "0o644))\n"
      "    except PermissionError:\n"
      "        pass\n";
  auto o = RunNsbuild({"run", "--report-writes", "--json-status", dir / "status.json", "--",
                       "/usr/bin/python3", "-c", py, std::string(100000, 'A')},
                      600);
  ASSERT_EQ(o.status, 0) << o.stream.substr(0, 4096);
  auto j = nlohmann::json::parse(Read(dir / "status.json"));
  EXPECT_EQ(j["write_violations"].size(), 256u);
  EXPECT_EQ(j["write_violations_not_kept"].get<uint64_t>(), 200000u - 256u);
  EXPECT_LE(j["write_violations"][0]["command"].get<std::string>().size(), 512u);
  EXPECT_NE(o.stream.find("199744 more not kept"), std::string::npos) << o.stream.substr(0, 4096);
  EXPECT_LT(o.stream.size(), 1u << 20);
  std::printf("nsbuild peak RSS after 200000 denied writes: %ld KiB\n", o.max_rss_kib);
  EXPECT_LT(o.max_rss_kib, kRssBoundKib);
}

// The same flood from a build's compile phase: the summary, the log file
// and the report hold the bounded records, and nsbuild stays small.
TEST(HostOutput, DeniedWriteFloodInABuildKeepsRssBounded) {
  TempDir dir;
  Write(dir / "src/flood.py",
        "import os\n"
        "for i in range(200000):\n"
        "    try:\n"
        "        os.close(os.open('/usr/lib/flood-%d-%s' % (i, 'd' * 200), os.O_WRONLY | "
        "os.O_CREAT))\n"
        "    except PermissionError:\n"
        "        pass\n");
  Write(dir / "r.json", ShellRecipe("/usr/bin/python3 ./flood.py"));
  auto o = RunNsbuild(
      {"build", dir / "r.json", "--work-dir", dir / "w", "--report", dir / "report.json"}, 600);
  EXPECT_EQ(o.status, 1) << o.stream.substr(0, 4096);
  EXPECT_NE(o.stream.find("200000 write(s) outside the allowed roots"), std::string::npos)
      << o.stream.substr(0, 4096);
  EXPECT_NE(o.stream.find("199744 more not kept"), std::string::npos) << o.stream.substr(0, 4096);
  EXPECT_LT(o.stream.size(), 1u << 20);
  EXPECT_LT(fs::file_size(dir / "w/logs/a-compile.log"), 1u << 20);
  auto report = nlohmann::json::parse(Read(dir / "report.json"));
  EXPECT_EQ(report["writes"]["violations"], 200000);
  long own = report["builder_max_rss_kib"];
  std::printf("nsbuild peak RSS after 200000 denied writes in a build: %ld KiB\n", own);
  EXPECT_GT(own, 0);
  EXPECT_LT(own, kRssBoundKib);
}

// A phase that prints 512 MiB without a newline and fails: the failure
// message shows the log's last bytes only, and nsbuild never holds the log.
TEST(HostOutput, HugeFailingLogIsReadFromItsEnd) {
  TempDir dir;
  Write(dir / "src/x", "");
  Write(dir / "r.json", ShellRecipe("head -c 536870912 /dev/zero | tr '\\0' x; exit 1"));
  auto o = RunNsbuild(
      {"build", dir / "r.json", "--work-dir", dir / "w", "--report", dir / "report.json"}, 600);
  EXPECT_EQ(o.status, 1) << o.stream.substr(0, 4096);
  EXPECT_EQ(fs::file_size(dir / "w/logs/a-compile.log") >= (size_t{512} << 20), true);
  EXPECT_LT(o.stream.size(), 64u * 1024) << "the tail printed is bounded";
  EXPECT_NE(o.stream.find("FAILED a:compile"), std::string::npos) << o.stream.substr(0, 4096);
  // wait4 counts the largest of nsbuild and the helpers it waited for (its
  // source copy); the report has nsbuild's own (getrusage RUSAGE_SELF).
  auto report = nlohmann::json::parse(Read(dir / "report.json"));
  long own = report["builder_max_rss_kib"];
  std::printf("nsbuild peak RSS with a 512 MiB failing log: %ld KiB (with its helpers: %ld KiB)\n",
              own, o.max_rss_kib);
  EXPECT_GT(own, 0);
  EXPECT_LT(own, kRssBoundKib);
}

bool DistccInstalled() {
  return access("/usr/bin/distcc", X_OK) == 0 && access("/usr/lib/distcc/gcc", X_OK) == 0;
}

// distcc's log lives in a directory every sandbox of the build can write.
// Replaced by a fifo, reading it would block nsbuild forever; replaced by a
// symlink, root would read (and count) a host file.
TEST(HostOutput, DistccLogReplacedByAFifoOrASymlinkIsNotRead) {
  if (!DistccInstalled()) GTEST_SKIP() << "distcc not installed (Debian package distcc)";
  TempDir dir;
  // A host file only root may read, shaped like distcc's log.
  std::string victim = dir / "victim-log";
  Write(victim, "distcc[1] compile secret.c on 10.9.9.9 completed ok\n");
  ::chmod(victim.c_str(), 0600);
  Write(dir / "src/x", "");
  const std::pair<std::string, std::string> cases[] = {
      {"fifo", "rm -f $DISTCC_LOG; mkfifo $DISTCC_LOG"},
      {"symlink", "rm -f $DISTCC_LOG; ln -s " + victim + " $DISTCC_LOG"},
  };
  for (const auto& [name, plant] : cases) {
    Write(dir / "r.json", ShellRecipe(plant));
    // A daemon nobody listens on: only the log matters here.
    auto o = RunNsbuild({"build", dir / "r.json", "--work-dir", dir / ("w-" + name), "--distcc",
                         "127.0.0.1:1", "--report", dir / ("report-" + name + ".json")},
                        120);
    ASSERT_FALSE(o.timed_out) << name << ": nsbuild hung on the planted log";
    EXPECT_EQ(o.status, 0) << name << o.stream;
    auto report = nlohmann::json::parse(Read(dir / ("report-" + name + ".json")));
    EXPECT_EQ(report["distcc"]["remote_compiles"], 0) << name << ": a planted log was counted";
  }
}

// --capture-writes DIR that is not fresh (a symlink planted in it, or DIR
// itself a symlink): refused before anything runs; the target stays empty.
TEST(HostOutput, CaptureDirWithAPlantedSymlinkIsRefused) {
  TempDir dir;
  std::string victim = dir / "victim";
  fs::create_directories(victim + "/lib");
  fs::create_directories(dir / "capture");
  fs::create_symlink(victim, dir / "capture/usr");
  fs::create_symlink(victim, dir / "capture-link");
  for (std::string target : {dir / "capture", dir / "capture-link"}) {
    auto o = RunNsbuild(
        {"run", "--capture-writes", target, "--", "/bin/sh", "-c", "echo x > /usr/lib/planted"});
    EXPECT_EQ(o.status, 2) << o.stream;
    EXPECT_FALSE(fs::exists(victim + "/lib/planted")) << o.stream;
    EXPECT_EQ(RawControl(o.stream), "") << o.stream;
  }
}

// A path longer than PATH_MAX gets ENAMETOOLONG, as from the kernel; cut at
// PATH_MAX it would name /usr/lib/evil, which capture mode would create.
TEST(HostOutput, CapturePathLongerThanPathMaxIsRefusedNotTruncated) {
  TempDir dir;
  std::string py =
      "import os\n"
      "p = '/usr/lib' + '/' * (4096 - len('/usr/lib') - len('evil')) + 'evil' + 'X' * 100\n"
      "try:\n"
      "    os.open(p, os.O_WRONLY | os.O_CREAT, 0o644); print('opened')\n"
      "except OSError as e:\n"
      "    print(os.strerror(e.errno))\n";
  auto o =
      RunNsbuild({"run", "--capture-writes", dir / "capture", "--", "/usr/bin/python3", "-c", py});
  EXPECT_EQ(o.status, 0) << o.stream;
  EXPECT_NE(o.stream.find("File name too long"), std::string::npos) << o.stream;
  EXPECT_FALSE(fs::exists(dir / "capture/usr/lib/evil")) << o.stream;
}

// The capture holds what the sandbox's tmpfs would: fallocate beyond it
// fails with ENOSPC; a 1 TiB sparse capture is copied out sparse.
TEST(HostOutput, CaptureIsLimitedLikeTheSandboxsTmpfs) {
  TempDir dir;
  std::string py =
      "import os\n"
      "fd = os.open('/usr/lib/nsb-big', os.O_RDWR | os.O_CREAT, 0o644)\n"
      "try:\n"
      "    os.posix_fallocate(fd, 0, 2 << 30); print('allocated')\n"
      "except OSError as e:\n"
      "    print(os.strerror(e.errno))\n"
      "fd = os.open('/usr/lib/nsb-sparse', os.O_RDWR | os.O_CREAT, 0o644)\n"
      "os.ftruncate(fd, 1 << 40); os.pwrite(fd, b'end', (1 << 40) - 3); print('sparse')\n";
  auto o = RunNsbuild(
      {"run", "--capture-writes", dir / "capture", "--", "/usr/bin/python3", "-c", py}, 300);
  EXPECT_EQ(o.status, 0) << o.stream;
  EXPECT_NE(o.stream.find("No space left on device\nsparse\n"), std::string::npos) << o.stream;
  struct stat st = {};
  ASSERT_EQ(::stat((dir / "capture/usr/lib/nsb-sparse").c_str(), &st), 0) << o.stream;
  EXPECT_EQ(st.st_size, off_t{1} << 40);
  EXPECT_LT(st.st_blocks * 512, 1 << 20) << "the sparse capture was written out in full";
  if (::stat((dir / "capture/usr/lib/nsb-big").c_str(), &st) == 0) {
    EXPECT_LT(st.st_blocks * 512, off_t{2} << 30);
  }
}

// A captured file can be neither run nor made setuid, in the sandbox (the
// capture tmpfs is noexec, nosuid) or on the host afterwards (plain modes).
TEST(HostOutput, CapturedFilesAreNeverExecutableOrSetid) {
  TempDir dir;
  std::string py =
      "import os\n"
      "fd = os.open('/usr/lib/nsb-exe', os.O_RDWR | os.O_CREAT, 0o755)\n"
      "os.write(fd, open('/bin/true', 'rb').read())\n"
      "try:\n"
      "    os.fchmod(fd, 0o6755)\n"
      "except OSError:\n"
      "    pass\n"
      "ro = os.open('/proc/self/fd/%d' % fd, os.O_RDONLY)\n"
      "os.close(fd)\n"
      "try:\n"
      "    os.execv('/proc/self/fd/%d' % ro, ['x'])\n"
      "except OSError as e:\n"
      "    print('exec:', os.strerror(e.errno))\n";
  auto o =
      RunNsbuild({"run", "--capture-writes", dir / "capture", "--", "/usr/bin/python3", "-c", py});
  EXPECT_EQ(o.status, 0) << o.stream;
  EXPECT_NE(o.stream.find("exec: Permission denied"), std::string::npos) << o.stream;
  struct stat st = {};
  ASSERT_EQ(::stat((dir / "capture/usr/lib/nsb-exe").c_str(), &st), 0) << o.stream;
  EXPECT_EQ(st.st_mode & 07111, 0u) << std::oct << st.st_mode;
  EXPECT_TRUE(S_ISREG(st.st_mode));
}

// Whether a file exists where the sandbox cannot look (a 0700 root dir in
// its view) must not show in what capture mode answers: the same error as
// for a name that is not there, and nothing captured.
TEST(HostOutput, CaptureDoesNotTellWhatExistsBehindADirItCannotSearch) {
  if (!IsRoot()) GTEST_SKIP() << "needs a directory owned by another uid than the sandbox's (root)";
  TempDir dir;
  fs::create_directories(dir / "probe/secret/there");
  // A link in there to a directory the sandbox can see: resolved as root, it
  // would lead somewhere capturable.
  fs::create_directory_symlink("/usr/lib", dir / "probe/secret/link");
  ::chmod((dir / "probe/secret").c_str(), 0700);
  std::string py =
      "import os\n"
      "for p in ('/probe/secret/there/x', '/probe/secret/absent/x', '/probe/secret/link/x',\n"
      "          '/probe/secret/nolink/x'):\n"
      "    try:\n"
      "        os.open(p, os.O_WRONLY | os.O_CREAT, 0o644); print('created')\n"
      "    except OSError as e:\n"
      "        print(os.strerror(e.errno))\n";
  auto o = RunNsbuild({"run", "--capture-writes", dir / "capture", "--ro-bind",
                       dir / "probe:/probe", "--", "/usr/bin/python3", "-c", py});
  EXPECT_EQ(o.status, 0) << o.stream;
  EXPECT_NE(
      o.stream.find("Permission denied\nPermission denied\nPermission denied\nPermission denied\n"),
      std::string::npos)
      << o.stream;
  EXPECT_FALSE(fs::exists(dir / "capture/probe/secret/there/x")) << o.stream;
  EXPECT_FALSE(fs::exists(dir / "capture/usr/lib/x")) << o.stream;
}

}  // namespace
}  // namespace nsbuild::testing
