#include "sandbox/probe.h"

#include <fcntl.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <functional>

#include "base/fs.h"
#include "base/subprocess.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

namespace nsbuild::sandbox {
namespace {

// Runs fn in a forked child; its return value (an errno or 0) comes back as
// the exit status.
int InChild(const std::function<int()>& fn) {
  auto child = base::Subprocess::Fork(fn);
  if (!child.ok()) return child.error().errnum;
  auto status = child->Wait();
  if (!status.ok()) return status.error().errnum;
  return WIFEXITED(*status) ? WEXITSTATUS(*status) : EINTR;
}

bool WriteSelf(const char* file, const std::string& text) {
  int fd = open(file, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  close(fd);
  return ok;
}

// unshare a user namespace and map ourselves, as an unprivileged caller would.
int EnterUserNs(int extra_flags) {
  uid_t uid = geteuid();
  gid_t gid = getegid();
  if (unshare(CLONE_NEWUSER | extra_flags) != 0) return errno;
  WriteSelf("/proc/self/setgroups", "deny");
  if (!WriteSelf("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1")) return errno;
  if (!WriteSelf("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1")) return errno;
  return 0;
}

ProbeResult UserNs() {
  int err = InChild([] { return EnterUserNs(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET); });
  std::string detail = err ? std::strerror(err) : "user, mount, pid and net namespaces";
  auto max = base::ReadFile("/proc/sys/user/max_user_namespaces");
  if (max) detail += "; max_user_namespaces=" + max->substr(0, max->find('\n'));
  auto restrict = base::ReadFile("/proc/sys/kernel/apparmor_restrict_unprivileged_userns");
  if (restrict&& restrict->starts_with("1")) detail += "; AppArmor restricts unprivileged userns";
  return {"user namespaces", err == 0, true, detail};
}

ProbeResult OverlayInUserNs() {
  char tmpl[] = "/tmp/nsbuild-doctor.XXXXXX";
  if (!mkdtemp(tmpl)) return {"overlayfs in a user namespace", false, false, std::strerror(errno)};
  std::string root = tmpl;
  for (const char* d : {"/lower", "/upper", "/work", "/merged"}) mkdir((root + d).c_str(), 0700);
  int err = InChild([&] {
    if (int e = EnterUserNs(CLONE_NEWNS)) return e;
    std::string opts = "lowerdir=" + root + "/lower,upperdir=" + root + "/upper,workdir=" + root +
                       "/work,userxattr";
    return mount("overlay", (root + "/merged").c_str(), "overlay", 0, opts.c_str()) == 0 ? 0
                                                                                         : errno;
  });
  for (const char* d : {"/work/work", "/lower", "/upper", "/work", "/merged", ""}) {
    rmdir((root + d).c_str());
  }
  return {"overlayfs in a user namespace", err == 0, false,
          err ? std::strerror(err) : "builds get a copy-free writable source tree"};
}

bool ActionAvailable(uint32_t action) {
  return syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0;
}

ProbeResult Seccomp() {
  bool filter = ActionAvailable(SECCOMP_RET_ERRNO) && ActionAvailable(SECCOMP_RET_KILL_PROCESS);
  return {"seccomp filter", filter, true,
          filter ? "SECCOMP_RET_ERRNO and KILL_PROCESS available" : std::strerror(errno)};
}

ProbeResult SeccompNotify() {
  bool notif = ActionAvailable(SECCOMP_RET_USER_NOTIF);
  return {"seccomp user notification", notif, false,
          notif ? "write-violation reports can name every denied write" : std::strerror(errno)};
}

ProbeResult Landlock() {
  long abi = syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
  if (abi < 0) return {"landlock", false, false, std::strerror(errno)};
  return {"landlock", true, false, "ABI " + std::to_string(abi)};
}

ProbeResult Cgroup2() {
  std::ifstream in("/proc/self/cgroup");
  std::string line, path;
  while (std::getline(in, line)) {
    if (line.rfind("0::", 0) == 0) path = line.substr(3);
  }
  for (const char* mnt : {"/sys/fs/cgroup/unified", "/sys/fs/cgroup"}) {
    std::string dir = std::string(mnt) + path;
    if (access((dir + "/cgroup.procs").c_str(), F_OK) != 0) continue;
    bool writable = access((dir + "/cgroup.subtree_control").c_str(), W_OK) == 0;
    return {"cgroup v2 delegation", writable, false,
            dir + (writable ? " is writable (limits per sub-phase possible)"
                            : " is not writable by us")};
  }
  return {"cgroup v2 delegation", false, false, "no cgroup2 hierarchy found"};
}

ProbeResult TimeNs() {
  int err = InChild([] {
    if (int e = EnterUserNs(0)) return e;
    return unshare(CLONE_NEWTIME) == 0 ? 0 : errno;
  });
  return {"time namespace", err == 0, false,
          err ? std::strerror(err) : "shifts monotonic/boottime clocks only"};
}

}  // namespace

std::vector<ProbeResult> ProbeKernel() {
  return {UserNs(), OverlayInUserNs(), Seccomp(), SeccompNotify(), Landlock(), Cgroup2(), TimeNs()};
}

}  // namespace nsbuild::sandbox
