// The kernel's view of the mounts, not the permissions': every mount of the
// plan (--dry-run) is found in /proc/self/mountinfo inside the sandbox with
// exactly the flags the plan prints (ro, nosuid, nodev, noexec). Run as root,
// file permissions refuse most writes anyway and would hide a mount that
// lost its ro or nosuid; mountinfo does not. Where a write is meant to be
// refused by the mount flag, the target is writable by the mapped user, so
// only the flag can refuse it (EROFS, not EACCES).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "tests/integration/sandbox_test_util.h"

namespace nsbuild::testing {
namespace {

using Flags = std::set<std::string>;

std::string FlagsText(const Flags& f) {
  std::string s;
  for (const auto& x : f) s += (s.empty() ? "" : ",") + x;
  return s;
}

// target -> the flags the plan says the mount there has.
std::map<std::string, Flags> PlannedFlags(const std::string& dry_run) {
  std::map<std::string, Flags> planned;
  std::istringstream in(dry_run);
  std::string line;
  while (std::getline(in, line)) {
    // "  3. ro-bind /usr -> /usr [ro,nosuid,nodev]" / "  7. remount-ro /dev"
    size_t dot = line.find(". ");
    if (line.rfind("  ", 0) != 0 || dot == std::string::npos || !isdigit(line[2])) continue;
    std::istringstream words(line.substr(dot + 2));
    std::string kind, a, arrow, b;
    words >> kind >> a;
    if (kind == "symlink" || kind == "dir") continue;
    std::string target = a;
    if (kind == "bind" || kind == "ro-bind") {
      words >> arrow >> b;
      target = b;
    }
    if (kind == "remount-ro") {
      planned[target].insert("ro");
      continue;
    }
    size_t open = line.rfind('['), close = line.rfind(']');
    if (open == std::string::npos || close < open) {
      ADD_FAILURE() << "no flags on: " << line;
      continue;
    }
    Flags f;
    std::istringstream list(line.substr(open + 1, close - open - 1));
    std::string flag;
    while (std::getline(list, flag, ',')) {
      if (flag == "ro" || flag == "nosuid" || flag == "nodev" || flag == "noexec") f.insert(flag);
    }
    // An optional source may be absent on this machine: "?" marks it.
    if (line.find(",optional") != std::string::npos || kind == "hide") f.insert("?");
    planned[target] = f;  // a later mount at the same place covers the earlier
  }
  return planned;
}

// mount point -> flags of the topmost mount there, from mountinfo text.
std::map<std::string, Flags> KernelFlags(const std::string& mountinfo) {
  std::map<std::string, Flags> kernel;
  std::istringstream in(mountinfo);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, dev, root, point, opts;
    fields >> id >> parent >> dev >> root >> point >> opts;
    Flags f;
    std::istringstream list(opts);
    std::string flag;
    while (std::getline(list, flag, ',')) {
      if (flag == "ro" || flag == "nosuid" || flag == "nodev" || flag == "noexec") f.insert(flag);
    }
    kernel[point] = f;  // later lines are mounted on top of earlier ones
  }
  return kernel;
}

void ExpectKernelMatchesPlan(const std::vector<std::string>& opts) {
  std::vector<std::string> dry = {"run", "--dry-run"};
  dry.insert(dry.end(), opts.begin(), opts.end());
  dry.insert(dry.end(), {"--", "/bin/true"});
  auto plan = Nsbuild(dry);
  ASSERT_EQ(plan.status, 0) << plan.err;
  auto planned = PlannedFlags(plan.out);
  ASSERT_GE(planned.size(), 5u) << plan.out;
  auto r = RunSh("cat /proc/self/mountinfo", opts);
  ASSERT_EQ(r.status, 0) << r.err;
  auto kernel = KernelFlags(r.out);
  // The root tmpfs holds only mount points and is read-only at the end.
  EXPECT_EQ(FlagsText(kernel["/"]), "nodev,nosuid,ro") << r.out;
  for (const auto& [target, want] : planned) {
    Flags flags = want;
    bool optional = flags.erase("?") > 0;
    if (!kernel.count(target)) {
      EXPECT_TRUE(optional) << target << " is in the plan but not mounted\n" << r.out;
      continue;
    }
    EXPECT_EQ(FlagsText(kernel[target]), FlagsText(flags)) << "mount at " << target;
  }
}

TEST(MountFlags, DefaultPolicyKernelFlagsAreThePlans) { ExpectKernelMatchesPlan({}); }

TEST(MountFlags, BindsAndTmpfsKernelFlagsAreThePlans) {
  TempDir dir;
  ExpectKernelMatchesPlan({"--bind", dir.path() + ":/work", "--ro-bind", dir.path() + ":/ro"});
}

TEST(MountFlags, StrictPolicyKernelFlagsAreThePlans) {
  ExpectKernelMatchesPlan({"--policy", "strict"});
}

// A directory and a file every user may write, so only a mount flag can
// refuse a write there.
struct OpenToAll {
  TempDir dir;
  OpenToAll() {
    chmod(dir.path().c_str(), 0777);
    std::ofstream(dir.path() + "/f") << "x";
    chmod((dir.path() + "/f").c_str(), 0666);
    std::ofstream(dir.path() + "/run.sh") << "#!/bin/sh\necho ran\n";
    chmod((dir.path() + "/run.sh").c_str(), 0777);
  }
};

TEST(MountFlags, ReadOnlyBindRefusesByItsFlagNotByPermissions) {
  OpenToAll d;
  std::string py = std::string(kPyPrelude) + R"(
for path in ['/rw/f', '/ro/f', '/rw/new', '/ro/new']:
    try:
        open(path, 'a').write('y')
        print(path, 'ok')
    except OSError as e:
        print(path, errno.errorcode[e.errno])
)";
  auto r = RunPy(py, {"--bind", d.dir.path() + ":/rw", "--ro-bind", d.dir.path() + ":/ro"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "/rw/f ok\n/ro/f EROFS\n/rw/new ok\n/ro/new EROFS\n");
}

TEST(MountFlags, NoexecWritableDirRefusesByItsFlag) {
  // The strict policy makes writable dirs noexec. The script is executable
  // by everyone, so only the flag can refuse it; the same script on a
  // read-only bind runs.
  auto plan = Nsbuild({"run", "--dry-run", "--policy", "strict", "--", "/bin/true"});
  ASSERT_EQ(plan.status, 0) << plan.err;
  ASSERT_TRUE(PlannedFlags(plan.out)["/tmp"].count("noexec")) << plan.out;
  OpenToAll d;
  auto r = RunSh(
      "cp /w/run.sh /tmp/run.sh && chmod 0755 /tmp/run.sh && /tmp/run.sh; echo rc=$?; /w/run.sh",
      {"--policy", "strict", "--ro-bind", d.dir.path() + ":/w"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "rc=126\nran\n") << r.err;
}

}  // namespace
}  // namespace nsbuild::testing
