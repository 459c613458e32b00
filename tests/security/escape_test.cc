// The escape suite: one attack class per test, run inside `nsbuild run`,
// each asserting from outside (and from what the attacker saw) that nothing
// escaped. tests/security/README.md maps every class to what stops it.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <thread>

#include "tests/integration/sandbox_test_util.h"

namespace nsbuild::testing {
namespace {

// Python inside the sandbox, with the ctypes prelude; returns stdout.
std::string Py(const std::string& code, std::vector<std::string> opts = {}) {
  auto r = RunPy(std::string(kPyPrelude) + "p = lambda s: ctypes.c_char_p(s.encode())\n" + code, opts);
  EXPECT_EQ(r.status, 0) << r.err;
  return r.out;
}

std::string Sh(const std::string& script, std::vector<std::string> opts = {}) {
  auto r = RunSh(script, opts);
  return r.out;
}

// A listener on the host's loopback the sandbox must not reach.
class HostListener {
 public:
  explicit HostListener(int type) {
    fd_ = socket(AF_INET, type, 0);
    sockaddr_in a = {};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    if (type == SOCK_STREAM) listen(fd_, 4);
  }
  ~HostListener() { close(fd_); }
  int port() const { return port_; }
  bool Received() {
    char buf[16];
    return recv(fd_, buf, sizeof buf, MSG_DONTWAIT) > 0;
  }

 private:
  int fd_;
  int port_;
};

TEST(Escape, TiocstiTypingIntoTheTerminal) {
  EXPECT_EQ(Py("import termios\nprint(sys_call(16, 0, termios.TIOCSTI | (7 << 32), p('x')))"), "EPERM\n");
}

TEST(Escape, TioclinuxConsoleControl) {
  EXPECT_EQ(Py("print(sys_call(16, 0, 0x541C, p('\\x06')))"), "EPERM\n");
}

TEST(Escape, Clone3NewNamespaces) {
  EXPECT_EQ(Py("print(sys_call(435, 0, 88))"), "ENOSYS\n");
}

TEST(Escape, NewMountApi) {
  EXPECT_EQ(Py("print(sys_call(430, p('tmpfs'), 0)); print(sys_call(428, -100 & (2**64-1), p('/usr'), 1));"
               "print(sys_call(429, 0, p(''), 0, p('/tmp'), 4)); print(sys_call(442, 0, p(''), 0, 0, 0))"),
            "EPERM\nEPERM\nEPERM\nEPERM\n");
}

TEST(Escape, UnshareAndSetns) {
  EXPECT_EQ(Py("print(sys_call(272, 0x10000000)); print(sys_call(272, 0x20000))\n"
               "fd = os.open('/proc/self/ns/mnt', os.O_RDONLY)\nprint(sys_call(308, fd, 0))"),
            "EPERM\nEPERM\nEPERM\n");
}

TEST(Escape, RemountReadOnlyBindWritable) {
  EXPECT_EQ(Sh("mount -o remount,rw /usr 2>/dev/null || echo refused; touch /usr/x 2>/dev/null || echo ro"),
            "refused\nro\n");
}

TEST(Escape, PtraceAndProcMemOfInit) {
  EXPECT_EQ(Py("print(sys_call(101, 16, 1, 0, 0))\n"  // PTRACE_ATTACH to PID 1
               "try:\n  open('/proc/1/mem', 'rb').read(1)\nexcept OSError as e:\n  print(errno.errorcode[e.errno])"),
            "EPERM\nEACCES\n");
}

TEST(Escape, OverwriteHostBinaryThroughProcExe) {
  auto before = RunCommand({"sha256sum", NsbuildBin()});
  EXPECT_EQ(Sh("(echo x > /proc/1/exe) 2>/dev/null || echo refused; "
               "(echo x >> /proc/self/exe) 2>/dev/null || echo refused"),
            "refused\nrefused\n");
  EXPECT_EQ(RunCommand({"sha256sum", NsbuildBin()}).out, before.out);
}

TEST(Escape, LeakedFdOrCwdGivesAPathToTheHost) {
  EXPECT_EQ(Py("print(sorted(os.listdir('/proc/self/fd')))\n"
               "print(os.readlink('/proc/self/root'), os.readlink('/proc/self/cwd'))\n"
               "os.chdir('/'); os.chdir('..'); print(sorted(os.listdir('.')) == sorted(os.listdir('/')))\n"
               "try:\n  os.readlink('/proc/1/cwd')\nexcept OSError as e:\n  print(errno.errorcode[e.errno])"),
            "['0', '1', '2', '3']\n/ /\nTrue\nEACCES\n");
}

TEST(Escape, AbstractUnixSocketToTheHost) {
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un a = {};
  a.sun_family = AF_UNIX;
  const char name[] = "\0nsbuild-escape-test";
  std::memcpy(a.sun_path, name, sizeof name);
  ASSERT_EQ(bind(s, reinterpret_cast<sockaddr*>(&a), offsetof(sockaddr_un, sun_path) + sizeof name - 1), 0);
  listen(s, 1);
  EXPECT_EQ(Py("import socket\nc = socket.socket(socket.AF_UNIX)\n"
               "try:\n  c.connect('\\0nsbuild-escape-test'); print('connected')\n"
               "except OSError as e:\n  print(errno.errorcode[e.errno])"),
            "ECONNREFUSED\n");
  close(s);
}

TEST(Escape, NetworkEgressTcpUdpRawNetlink) {
  HostListener tcp(SOCK_STREAM), udp(SOCK_DGRAM);
  std::string code = "import socket\n"
                     "c = socket.socket()\n"
                     "try:\n  c.connect(('127.0.0.1', " + std::to_string(tcp.port()) + ")); print('tcp')\n"
                     "except OSError as e:\n  print(errno.errorcode[e.errno])\n"
                     "u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                     "u.sendto(b'x', ('127.0.0.1', " + std::to_string(udp.port()) + "))\n"
                     "try:\n  socket.socket(socket.AF_INET, socket.SOCK_RAW, 1); print('raw')\n"
                     "except OSError as e:\n  print(errno.errorcode[e.errno])\n"
                     "print(sorted(i[1] for i in socket.if_nameindex()))\n";
  EXPECT_EQ(Py(code), "ECONNREFUSED\nEPERM\n['lo']\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(udp.Received());
  EXPECT_EQ(Sh("ip link add dummy0 type dummy 2>/dev/null || echo refused"), "refused\n");
}

TEST(Escape, SetidFilesByEveryChmodVariant) {
  EXPECT_EQ(Py("open('/tmp/f','w').close(); fd = os.open('/tmp/f', os.O_RDONLY)\n"
               "for nr, args in ((90, (p('/tmp/f'), 0o4755)), (91, (fd, 0o2755)),\n"
               "                 (268, (-100 & (2**64-1), p('/tmp/f'), 0o6755)),\n"
               "                 (452, (-100 & (2**64-1), p('/tmp/f'), 0o4755, 0)),\n"
               "                 (85, (p('/tmp/g'), 0o4755)), (133, (p('/tmp/h'), 0o104755, 0))):\n"
               "  print(sys_call(nr, *args))\n"
               "print(oct(os.stat('/tmp/f').st_mode & 0o7777))"),
            "EPERM\nEPERM\nEPERM\nEPERM\nEPERM\nEPERM\n0o644\n");
}

TEST(Escape, PrivilegedXattrs) {
  EXPECT_EQ(Py("open('/tmp/f','w').close()\n"
               "for name in (b'security.capability', b'trusted.x', b'security.selinux', b'user.x'):\n"
               "  print(sys_call(188, p('/tmp/f'), ctypes.c_char_p(name), p('v'), 1, 0))"),
            "ENOTSUP\nENOTSUP\nENOTSUP\nENOTSUP\n");
}

TEST(Escape, DeviceNodes) {
  EXPECT_EQ(Py("print(sys_call(133, p('/tmp/sda'), 0o60600, os.makedev(8, 0)))\n"
               "print(sys_call(133, p('/tmp/mem'), 0o20600, os.makedev(1, 1)))"),
            "EPERM\nEPERM\n");
}

TEST(Escape, HardlinkOfAHostFileIntoAWritableDir) {
  ScratchDir d;
  chmod(d.path().c_str(), 0777);
  EXPECT_EQ(Sh("ln /etc/passwd /work/passwd 2>/dev/null || echo refused; ls /work", {"--bind", d.path() + ":/work"}),
            "refused\n");
}

TEST(Escape, SecretsCallerHomeAndSshAgent) {
  ScratchDir home;
  std::string agent = home.path() + "/agent.sock";
  std::ofstream(home.path() + "/id_rsa") << "secret\n";
  auto r = RunCommand({NsbuildBin(), "run", "--", "/bin/sh", "-c",
                       "cat /etc/shadow 2>/dev/null; ls -A /root 2>/dev/null; ls -A /home; "
                       "test -e \"$HOME/id_rsa\" && echo home; test -n \"$SSH_AUTH_SOCK\" && echo agent-env; "
                       "test -e " + home.path() + " && echo scratch; echo end"},
                      {"HOME=" + home.path(), "SSH_AUTH_SOCK=" + agent});
  EXPECT_EQ(r.out, "end\n");
}

TEST(Escape, SignalsToHostProcesses) {
  pid_t me = getpid();
  EXPECT_EQ(Py("print(sys_call(62, " + std::to_string(me) + ", 0))\nprint(sys_call(62, -1 & (2**64-1), 0))"),
            "ESRCH\nESRCH\n");  // kill(host pid), kill(-1): nothing outside the pid namespace
}

TEST(Escape, KeyringsBpfPerfUserfaultfdIoUring) {
  EXPECT_EQ(Py("for nr, a in ((250, (0, 0)), (248, (p('user'), p('k'), 0, 0, 0)), (321, (0, 0, 0)),\n"
               "              (298, (0, 0, 0, 0, 0)), (323, (0,)), (425, (8, 0))):\n  print(sys_call(nr, *a))"),
            "EPERM\nEPERM\nEPERM\nEPERM\nEPERM\nEPERM\n");
}

TEST(Escape, PersonalityTricks) {
  EXPECT_EQ(Py("print(sys_call(135, 0x0400000)); print(sys_call(135, 0x0100000)); print(sys_call(135, 0xf0400000))"),
            "EPERM\nEPERM\nEPERM\n");
}

TEST(Escape, KernelModules) {
  EXPECT_EQ(Py("print(sys_call(175, 0, 0, p(''))); print(sys_call(313, 0, p(''), 0)); print(sys_call(176, p('ext4'), 0));"
               "print(sys_call(246, 0, 0, 0, 0))"),
            "EPERM\nEPERM\nEPERM\nEPERM\n");
}

TEST(Escape, SysfsAndProcfsWrites) {
  EXPECT_EQ(Sh("for f in /proc/sys/kernel/core_pattern /proc/sysrq-trigger /proc/sys/kernel/hostname; do"
               "  (echo x > $f) 2>/dev/null && echo WROTE $f; done; test -e /sys/kernel && echo sys; echo end"),
            "end\n");
}

TEST(Escape, CgroupEscape) {
  EXPECT_EQ(Sh("cat /proc/self/cgroup | grep -c '::/$'; test -e /sys/fs/cgroup && echo cgroupfs; echo end"),
            "1\nend\n");
}

TEST(Escape, HostnameAndTimeChanges) {
  auto before = RunCommand({"hostname"}).out;
  EXPECT_EQ(Py("print(sys_call(170, p('pwned'), 5))\n"
               "ts = (ctypes.c_long * 2)(0, 0)\nprint(sys_call(227, 0, ts))"),
            "EPERM\nEPERM\n");
  EXPECT_EQ(RunCommand({"hostname"}).out, before);
}

TEST(Escape, FillingTheDiskStaysInItsTmpfs) {
  ScratchDir d;
  std::string policy = d.path() + "/small.json";
  std::ofstream(policy) << R"({"sandbox": {"filesystem": {"ro_bind": ["/usr"], "mirror_links": ["/bin", "/lib", "/lib64"],
      "tmpfs": ["/tmp"], "tmpfs_size_mib": 8, "proc": true, "dev": true}}})";
  EXPECT_EQ(Sh("dd if=/dev/zero of=/tmp/fill bs=1M count=64 2>&1 | grep -c 'No space left'", {"--policy", policy}),
            "1\n");
}

TEST(Escape, MemoryLimitHolds) {
  ScratchDir d;
  std::string policy = d.path() + "/mem.json";
  std::ofstream(policy) << R"({"sandbox": {"filesystem": {"ro_bind": ["/usr"], "mirror_links": ["/bin", "/lib", "/lib64"],
      "tmpfs": ["/tmp"], "proc": true, "dev": true}, "rlimits": {"as": 268435456}}})";
  auto r = RunPy("b = bytearray(1 << 30)", {"--policy", policy});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("MemoryError"), std::string::npos);
}

TEST(Escape, ForkBombHitsThePidsLimit) {
  if (!IsRoot()) GTEST_SKIP() << "RLIMIT_NPROC counts the caller's own processes when not root";
  ScratchDir d;
  std::string policy = d.path() + "/nproc.json";
  std::ofstream(policy) << R"({"sandbox": {"filesystem": {"ro_bind": ["/usr"], "mirror_links": ["/bin", "/lib", "/lib64"],
      "tmpfs": ["/tmp"], "proc": true, "dev": true}, "rlimits": {"nproc": 64}}})";
  auto r = RunPy("import os\nn = 0\ntry:\n  while True:\n    if os.fork() == 0:\n      import time; time.sleep(30)\n    n += 1\n"
                 "except OSError as e:\n  print('limited', n < 64)",
                 {"--policy", policy, "--timeout", "20"});
  EXPECT_EQ(r.out, "limited True\n");
  EXPECT_EQ(r.status, 0);  // python exits; the sleeping children die with the sandbox
}

TEST(Escape, NeverEndingCommandIsKilledAndReaped) {
  auto r = RunSh("while :; do :; done & sleep 654321", {"--timeout", "0.5"});
  EXPECT_EQ(r.status, 128 + SIGKILL);
  EXPECT_EQ(RunCommand({"pgrep", "-f", "sleep 654321"}).status, 1);
}

TEST(Escape, ForeignArchitectureCalls) {
  EXPECT_EQ(Py("print('alive')"), "alive\n");  // the x32/i386 kill is proven in sandbox_security_test
}

TEST(Escape, ChrootAndPivotRoot) {
  EXPECT_EQ(Py("print(sys_call(161, p('/tmp'))); print(sys_call(155, p('/tmp'), p('/tmp')))"), "EPERM\nEPERM\n");
}

TEST(Escape, SymlinkInAWritableDirPointingAtHostFiles) {
  ScratchDir d;
  chmod(d.path().c_str(), 0777);
  Sh("ln -s /etc/shadow /work/shadow; ln -s /root /work/rootdir", {"--bind", d.path() + ":/work"});
  // The links exist on the host now, but were made by an unprivileged id and
  // point at paths; the merger refuses them (merge tests), and inside they
  // resolve within the sandbox's own root:
  EXPECT_EQ(Sh("cat /work/shadow 2>/dev/null; ls /work/rootdir/ 2>/dev/null; echo end", {"--bind", d.path() + ":/work"}),
            "end\n");
}

}  // namespace
}  // namespace nsbuild::testing
