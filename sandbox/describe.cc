// --dry-run output: the plan as a person reads it.
#include <cstdio>

#include "sandbox/landlock.h"
#include "sandbox/plan.h"
#include "sandbox/seccomp_rules.h"

namespace nsbuild::sandbox {
namespace {

const char* KindName(MountKind k) {
  switch (k) {
    case MountKind::kBind:
      return "bind";
    case MountKind::kRoBind:
      return "ro-bind";
    case MountKind::kTmpfs:
      return "tmpfs";
    case MountKind::kProc:
      return "proc";
    case MountKind::kDevpts:
      return "devpts";
    case MountKind::kSymlink:
      return "symlink";
    case MountKind::kDir:
      return "dir";
    case MountKind::kHide:
      return "hide";
    case MountKind::kRemountRo:
      return "remount-ro";
    case MountKind::kOverlay:
      return "overlay";
  }
  return "?";
}

std::string DescribeMount(const MountOp& m) {
  std::string s = std::string(KindName(m.kind)) + " ";
  switch (m.kind) {
    case MountKind::kBind:
    case MountKind::kRoBind:
      s += m.source + " -> " + m.target;
      break;
    case MountKind::kSymlink:
      s += m.target + " -> " + m.source;
      break;
    case MountKind::kOverlay:
      s += m.target + " (lower " + m.source + ", upper " + m.upper + ")";
      break;
    default:
      s += m.target;
  }
  if (m.kind != MountKind::kSymlink && m.kind != MountKind::kDir &&
      m.kind != MountKind::kRemountRo) {
    // The flags the kernel will show for this mount, as mounts.cc sets them
    // (the mountinfo integration test holds the two together).
    bool ro = m.kind == MountKind::kRoBind || m.kind == MountKind::kHide;
    bool nodev = !m.allow_devices && m.kind != MountKind::kDevpts;
    bool noexec = m.noexec || m.kind == MountKind::kProc || m.kind == MountKind::kDevpts ||
                  m.kind == MountKind::kHide;
    s += ro ? " [ro,nosuid" : " [nosuid";
    if (nodev) s += ",nodev";
    if (noexec) s += ",noexec";
    if (m.optional) s += ",optional";
    if (m.size_bytes) s += ",size=" + std::to_string(m.size_bytes >> 10) + "k";
    s += "]";
  }
  return s;
}

const char* NetName(NetMode n) {
  switch (n) {
    case NetMode::kNone:
      return "none (empty network namespace)";
    case NetMode::kLoopback:
      return "loopback only (private namespace, lo up)";
    case NetMode::kHost:
      return "HOST network (no network namespace)";
    case NetMode::kDistcc:
      return "distcc (private namespace, lo up, forwarded daemons only)";
  }
  return "?";
}

}  // namespace

std::string DescribePlan(const SandboxSpec& spec) {
  std::string out;
  out += "namespaces: user mount pid ipc uts cgroup";
  out += spec.net == NetMode::kHost ? "\n" : " net\n";
  char ids[160];
  std::snprintf(ids, sizeof ids, "ids: inside %u:%u; host %u:%u + %u ids%s\n", spec.ids.inside_uid,
                spec.ids.inside_gid, spec.ids.host_uid_base, spec.ids.host_gid_base, spec.ids.count,
                spec.ids.IsRange() ? "" : " (single-id map)");
  out += ids;
  out += std::string("network: ") + NetName(spec.net) + "\n";
  for (const auto& f : spec.forwards) {
    out += "  forward " + f.inside_addr + ":" + std::to_string(f.inside_port) + " -> " +
           f.daemon_addr + ":" + std::to_string(f.daemon_port) + " (" + f.label + ")\n";
  }
  if (spec.net == NetMode::kDistcc) out += "  " + DescribeDistccLandlock(LandlockAbi()) + "\n";
  out += "hostname: " + spec.hostname + "\n";
  out += "filesystem (new root on tmpfs, in order, root read-only at the end):\n";
  for (size_t i = 0; i < spec.mounts.size(); ++i) {
    out += "  " + std::to_string(i + 1) + ". " + DescribeMount(spec.mounts[i]) + "\n";
  }
  out += "working directory: " + spec.cwd + "\n";
  out += "environment:\n";
  for (const auto& e : spec.env) out += "  " + e + "\n";
  char mask[32];
  std::snprintf(mask, sizeof mask, "umask: %03o\n", spec.umask);
  out += mask;
  out += "rlimits:";
  if (spec.rlimits.empty()) out += " (inherited)";
  for (const auto& r : spec.rlimits) {
    out += " " + std::to_string(r.resource) + "=" +
           (r.soft == RLIM_INFINITY ? std::string("unlimited") : std::to_string(r.soft));
  }
  out += "\nat exec: no capabilities, no_new_privs, new session, fds above 2 closed";
  if (!spec.pass_fds.empty()) out += " except passed ones";
  out += "\n";
  out += DescribeSeccomp(spec.seccomp);
  out += "command:";
  for (const auto& a : spec.argv) out += " " + a;
  out += "\n";
  return out;
}

}  // namespace nsbuild::sandbox
