// The attack classes of the escape suite (attacks.h). Each program prints
// what the attacker got; the expected text is what a contained attacker
// sees. Programs use only what every policy's view has: /bin/sh, coreutils,
// iproute2 and python3 from /usr.
#include "tests/security/attacks.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <thread>

#include "tests/support/harness.h"

namespace nsbuild::testing {

const char* const kAttackPrelude = R"(
import ctypes, errno, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
def sys_call(nr, *args):
    r = libc.syscall(ctypes.c_long(nr), *[ctypes.c_ulong(a) if isinstance(a, int) else a for a in args])
    return 'ok' if r >= 0 else errno.errorcode[ctypes.get_errno()]
p = lambda s: ctypes.c_char_p(s.encode())
)";

namespace {

// A listener on the host's loopback that the sandbox must not reach.
class HostListener {
 public:
  explicit HostListener(int type) {
    fd_ = socket(AF_INET, type | SOCK_CLOEXEC, 0);
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

class NetworkHost : public HostSide {
 public:
  std::map<std::string, std::string> Vars() override {
    return {{"TCP", std::to_string(tcp_.port())}, {"UDP", std::to_string(udp_.port())}};
  }
  void CheckAfter() override {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_FALSE(udp_.Received()) << "a UDP datagram from the sandbox reached the host";
  }

 private:
  HostListener tcp_{SOCK_STREAM}, udp_{SOCK_DGRAM};
};

// A host process listening on an abstract unix socket (a build helper a
// sandboxed build could ask for fds, as in Nix CVE-2024-27297).
class AbstractSocketHost : public HostSide {
 public:
  AbstractSocketHost() {
    fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a = {};
    a.sun_family = AF_UNIX;
    std::string name = "nsbuild-escape-" + std::to_string(getpid());
    std::memcpy(a.sun_path + 1, name.data(), name.size());
    name_ = name;
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&a),
                   static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size())),
              0);
    listen(fd_, 1);
  }
  ~AbstractSocketHost() override { close(fd_); }
  std::map<std::string, std::string> Vars() override { return {{"SOCK", name_}}; }

 private:
  int fd_;
  std::string name_;
};

// The caller's HOME with a private key, and an SSH agent socket named in
// the environment nsbuild is started with.
class SecretsHost : public HostSide {
 public:
  SecretsHost() { std::ofstream(home_.path() + "/id_rsa") << "secret\n"; }
  std::map<std::string, std::string> Vars() override { return {{"HOME", home_.path()}}; }
  std::vector<std::string> Env() override {
    return {"HOME=" + home_.path(), "SSH_AUTH_SOCK=" + home_.path() + "/agent.sock"};
  }

 private:
  TempDir home_;
};

// A stopped host process of the caller's own uid: a SIGCONT or SIGKILL
// reaching it would show as a changed state.
class StoppedVictimHost : public HostSide {
 public:
  StoppedVictimHost() {
    pid_ = fork();
    if (pid_ == 0) {
      for (;;) pause();
    }
    kill(pid_, SIGSTOP);
    int status;
    waitpid(pid_, &status, WUNTRACED);
  }
  ~StoppedVictimHost() override {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  std::map<std::string, std::string> Vars() override { return {{"PID", std::to_string(pid_)}}; }
  void CheckAfter() override {
    std::ifstream stat("/proc/" + std::to_string(pid_) + "/stat");
    std::string pid, comm, state;
    stat >> pid >> comm >> state;
    EXPECT_EQ(state, "T") << "the stopped host process was signalled";
  }

 private:
  pid_t pid_;
};

class HostnameHost : public HostSide {
 public:
  void CheckAfter() override { EXPECT_EQ(RunCommand({"hostname"}).out, before_); }

 private:
  std::string before_ = RunCommand({"hostname"}).out;
};

class StrayProcessHost : public HostSide {
 public:
  // A sleep whose argument no other test (or parallel run) uses.
  std::map<std::string, std::string> Vars() override { return {{"SECONDS", seconds_}}; }
  void CheckAfter() override {
    EXPECT_EQ(RunCommand({"pgrep", "-f", "sleep " + seconds_}).status, 1)
        << "a process outlived it";
  }

 private:
  std::string seconds_ = "654321." + std::to_string(getpid());
};

template <typename T>
std::function<std::unique_ptr<HostSide>()> Host() {
  return [] { return std::make_unique<T>(); };
}

// A minimal policy; `extra` completes the filesystem object and adds limits.
std::string SmallPolicy(const std::string& extra) {
  return R"({"sandbox": {"filesystem": {"ro_bind": ["/usr"], "mirror_links": ["/bin", "/lib", "/lib64"],
      "tmpfs": ["/tmp"], )" +
         extra;
}

std::vector<Attack> MakeAttacks() {
  std::vector<Attack> a;
  auto py = [&](std::string name, std::string program, std::string expected) -> Attack& {
    a.push_back({});
    a.back().name = std::move(name);
    a.back().python = true;
    a.back().program = std::move(program);
    a.back().expected = std::move(expected);
    return a.back();
  };
  auto sh = [&](std::string name, std::string program, std::string expected) -> Attack& {
    Attack& at = py(std::move(name), std::move(program), std::move(expected));
    at.python = false;
    return at;
  };

  py("TiocstiTypingIntoTheTerminal",
     "import termios\nprint(sys_call(16, 0, termios.TIOCSTI | (7 << 32), p('x')))", "EPERM\n");
  py("TioclinuxConsoleControl", "print(sys_call(16, 0, 0x541C, p('\\x06')))", "EPERM\n");
  py("Clone3NewNamespaces", "print(sys_call(435, 0, 88))", "ENOSYS\n");
  py("NewMountApi",
     "print(sys_call(430, p('tmpfs'), 0)); print(sys_call(428, -100 & (2**64-1), p('/usr'), 1))\n"
     "print(sys_call(429, 0, p(''), 0, p('/tmp'), 4)); print(sys_call(442, 0, p(''), 0, 0, 0))",
     "EPERM\nEPERM\nEPERM\nEPERM\n");
  py("UnshareAndSetns",
     "print(sys_call(272, 0x10000000)); print(sys_call(272, 0x20000))\n"
     "fd = os.open('/proc/self/ns/mnt', os.O_RDONLY)\nprint(sys_call(308, fd, 0))",
     "EPERM\nEPERM\nEPERM\n");
  sh("RemountReadOnlyBindWritable",
     "mount -o remount,rw /usr 2>/dev/null || echo refused; touch /usr/x 2>/dev/null || echo ro",
     "refused\nro\n")
      .writes_outside_roots = true;
  py("PtraceAndProcMemOfInit",
     "print(sys_call(101, 16, 1, 0, 0))\n"  // PTRACE_ATTACH to PID 1 (nsbuild's init)
     "try:\n  open('/proc/1/mem', 'rb').read(1)\nexcept OSError as e:\n  "
     "print(errno.errorcode[e.errno])",
     "EPERM\nEACCES\n");
  // The nsbuild binary's hash is compared before and after every attack.
  sh("OverwriteHostBinaryThroughProcExe",
     "(echo x > /proc/1/exe) 2>/dev/null || echo refused; "
     "(echo x >> /proc/self/exe) 2>/dev/null || echo refused",
     "refused\nrefused\n")
      .writes_outside_roots = true;
  // No directory fd is open at exec (a build's jobserver pipes are), the
  // root is the sandbox's, and '..' of it stays in it.
  py("LeakedFdOrCwdGivesAPathToTheHost",
     "import stat\nfds = os.listdir('/proc/self/fd')\n"
     "print(sum(1 for f in fds if os.path.exists('/proc/self/fd/' + f) and\n"
     "          stat.S_ISDIR(os.stat('/proc/self/fd/' + f).st_mode)))\n"
     "print(os.readlink('/proc/self/root'))\n"
     "os.chdir('/'); os.chdir('..'); print(sorted(os.listdir('.')) == sorted(os.listdir('/')))\n"
     "try:\n  os.readlink('/proc/1/cwd')\nexcept OSError as e:\n  print(errno.errorcode[e.errno])",
     "0\n/\nTrue\nEACCES\n");
  py("AbstractUnixSocketToTheHost",
     "import socket\nc = socket.socket(socket.AF_UNIX)\n"
     "try:\n  c.connect('\\0@SOCK@'); print('connected')\n"
     "except OSError as e:\n  print(errno.errorcode[e.errno])",
     "ECONNREFUSED\n")
      .host = Host<AbstractSocketHost>();
  py("NetworkEgressTcpUdpRawNetlink",
     "import socket, subprocess\nc = socket.socket()\n"
     "try:\n  c.connect(('127.0.0.1', @TCP@)); print('tcp')\n"
     "except OSError as e:\n  print(errno.errorcode[e.errno])\n"
     "u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\nu.sendto(b'x', ('127.0.0.1', @UDP@))\n"
     "try:\n  socket.socket(socket.AF_INET, socket.SOCK_RAW, 1); print('raw')\n"
     "except OSError as e:\n  print(errno.errorcode[e.errno])\n"
     "print(sorted(i[1] for i in socket.if_nameindex()))\n"
     "r = subprocess.run(['/usr/bin/ip', 'addr', 'add', '10.9.9.9/32', 'dev', 'lo'], "
     "capture_output=True)\n"
     "print('refused' if b'Operation not permitted' in r.stderr else (r.returncode, r.stderr))",
     "ECONNREFUSED\nEPERM\n['lo']\nrefused\n")
      .host = Host<NetworkHost>();
  py("SetidFilesByEveryChmodVariant",
     "open('/tmp/f','w').close(); fd = os.open('/tmp/f', os.O_RDONLY)\n"
     "for nr, args in ((90, (p('/tmp/f'), 0o4755)), (91, (fd, 0o2755)),\n"
     "                 (268, (-100 & (2**64-1), p('/tmp/f'), 0o6755)),\n"
     "                 (452, (-100 & (2**64-1), p('/tmp/f'), 0o4755, 0)),\n"
     "                 (85, (p('/tmp/g'), 0o4755)), (133, (p('/tmp/h'), 0o104755, 0))):\n"
     "  print(sys_call(nr, *args))\n"
     "print(oct(os.stat('/tmp/f').st_mode & 0o7777))",
     "EPERM\nEPERM\nEPERM\nEPERM\nEPERM\nEPERM\n0o644\n");
  py("PrivilegedXattrs",
     "open('/tmp/f','w').close()\n"
     "for name in (b'security.capability', b'trusted.x', b'security.selinux', b'user.x'):\n"
     "  print(sys_call(188, p('/tmp/f'), ctypes.c_char_p(name), p('v'), 1, 0))",
     "ENOTSUP\nENOTSUP\nENOTSUP\nENOTSUP\n");
  py("DeviceNodes",
     "print(sys_call(133, p('/tmp/sda'), 0o60600, os.makedev(8, 0)))\n"
     "print(sys_call(133, p('/tmp/mem'), 0o20600, os.makedev(1, 1)))",
     "EPERM\nEPERM\n");
  sh("HardlinkOfAHostFileIntoAWritableDir",
     "ln /etc/passwd @W@/passwd 2>/dev/null || echo refused; ls @W@", "refused\n");
  sh("SecretsCallerHomeAndSshAgent",
     "cat /etc/shadow 2>/dev/null; ls -A /root 2>/dev/null; ls -A /home; "
     "test -e \"$HOME/id_rsa\" && echo home; test -n \"$SSH_AUTH_SOCK\" && echo agent-env; "
     "test -e @HOME@ && echo scratch; echo end",
     "end\n")
      .host = Host<SecretsHost>();
  // kill(host pid) and kill(-1), which reaches every process the caller may
  // signal: only the sandbox's own (a build phase's shell, say).
  py("SignalsToHostProcesses",
     "print(sys_call(62, @PID@, 9)); print(sys_call(62, @PID@, 18))\n"
     "sys_call(62, -1 & (2**64-1), 18); print('sent')",
     "ESRCH\nESRCH\nsent\n")
      .host = Host<StoppedVictimHost>();
  py("KeyringsBpfPerfUserfaultfdIoUring",
     "for nr, a in ((250, (0, 0)), (248, (p('user'), p('k'), 0, 0, 0)), (321, (0, 0, 0)),\n"
     "              (298, (0, 0, 0, 0, 0)), (323, (0,)), (425, (8, 0))):\n  print(sys_call(nr, "
     "*a))",
     "EPERM\nEPERM\nEPERM\nEPERM\nEPERM\nEPERM\n");
  py("PersonalityTricks",
     "print(sys_call(135, 0x0400000)); print(sys_call(135, 0x0100000)); print(sys_call(135, "
     "0xf0400000))",
     "EPERM\nEPERM\nEPERM\n");
  // x32 (the 0x40000000 bit) and i386 (int 0x80 from code mapped here): both
  // must die by SIGSYS, never run with x86_64 meanings. Where the kernel has
  // no int 0x80 at all, the i386 call dies by SIGSEGV: it did not run either.
  py("ForeignArchitectureCalls",
     "import subprocess\n"
     "x32 = 'import ctypes; ctypes.CDLL(None).syscall(0x40000000 | 39)'\n"
     "i386 = ('import ctypes, mmap\\n'\n"
     "        'm = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | "
     "mmap.PROT_EXEC)\\n'\n"
     "        'm.write(bytes([0xb8, 20, 0, 0, 0, 0xcd, 0x80, 0xc3]))\\n'\n"
     "        'f = "
     "ctypes.CFUNCTYPE(ctypes.c_long)(ctypes.addressof(ctypes.c_char.from_buffer(m)))\\n'\n"
     "        'f()')\n"
     "print('x32', subprocess.run([sys.executable, '-c', x32]).returncode)\n"
     "rc = subprocess.run([sys.executable, '-c', i386]).returncode\n"
     "print('i386', 'stopped' if rc in (-31, -11) else rc)",
     "x32 -31\ni386 stopped\n");
  py("KernelModules",
     "print(sys_call(175, 0, 0, p(''))); print(sys_call(313, 0, p(''), 0)); print(sys_call(176, "
     "p('ext4'), 0))\n"
     "print(sys_call(246, 0, 0, 0, 0))",
     "EPERM\nEPERM\nEPERM\nEPERM\n");
  sh("SysfsAndProcfsWrites",
     "for f in /proc/sys/kernel/core_pattern /proc/sysrq-trigger /proc/sys/kernel/hostname; do"
     "  (echo x > $f) 2>/dev/null && echo WROTE $f; done; test -e /sys/kernel && echo sys; echo "
     "end",
     "end\n")
      .writes_outside_roots = true;
  sh("CgroupEscape",
     "cat /proc/self/cgroup | grep -c '::/$'; test -e /sys/fs/cgroup && echo cgroupfs; echo end",
     "1\nend\n");
  py("HostnameAndTimeChanges",
     "print(sys_call(170, p('pwned'), 5))\nts = (ctypes.c_long * 2)(0, 0)\nprint(sys_call(227, 0, "
     "ts))",
     "EPERM\nEPERM\n")
      .host = Host<HostnameHost>();
  sh("FillingTheDiskStaysInItsTmpfs",
     "dd if=/dev/zero of=/tmp/fill bs=1M count=64 2>&1 | grep -c 'No space left'", "1\n")
      .policy = SmallPolicy(R"("tmpfs_size_mib": 8, "proc": true, "dev": true}}})");
  py("MemoryLimitHolds",
     "try:\n  b = bytearray(1 << 30); print('allocated')\nexcept MemoryError:\n  "
     "print('MemoryError')",
     "MemoryError\n")
      .policy = SmallPolicy(R"("proc": true, "dev": true}, "rlimits": {"as": 268435456}}})");
  {
    Attack& bomb =
        py("ForkBombHitsThePidsLimit",
           "n = 0\ntry:\n  while True:\n    if os.fork() == 0:\n      import time; time.sleep(30)\n"
           "    n += 1\nexcept OSError as e:\n  print('limited', n < 64)",
           "limited True\n");
    bomb.policy = SmallPolicy(R"("proc": true, "dev": true}, "rlimits": {"nproc": 64}}})");
    bomb.timeout = 20;
    bomb.root_only = "RLIMIT_NPROC counts the caller's own processes when not root";
  }
  {
    Attack& forever =
        sh("NeverEndingCommandIsKilledAndReaped", "while :; do :; done & sleep @SECONDS@", "");
    forever.timeout = 1;
    forever.ends_by_timeout = true;
    forever.host = Host<StrayProcessHost>();
  }
  py("ChrootAndPivotRoot",
     "print(sys_call(161, p('/tmp'))); print(sys_call(155, p('/tmp'), p('/tmp')))",
     "EPERM\nEPERM\n");
  // The links exist outside afterwards (run: in the bound dir; build: in
  // the image, which the merger then refuses), but inside they resolve in
  // the sandbox's own root.
  {
    Attack& links = sh("SymlinkInAWritableDirPointingAtHostFiles",
                       "ln -s /etc/shadow @W@/shadow; ln -s /root @W@/rootdir; "
                       "cat @W@/shadow 2>/dev/null; ls @W@/rootdir/ 2>/dev/null; echo end",
                       "end\n");
    links.leaves_refused_image = true;
  }
  return a;
}

}  // namespace

const std::vector<Attack>& Attacks() {
  static const std::vector<Attack> attacks = MakeAttacks();
  return attacks;
}

}  // namespace nsbuild::testing
