// A sandbox policy: the filesystem view, namespaces, network, ids, rlimits,
// environment and seccomp rule set a command gets. Parsed at the edge from the
// "sandbox" object of a policy file (policies/*.json); nothing deeper sees JSON.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "sandbox/distcc_hosts.h"
#include "sandbox/spec.h"

namespace nsbuild::sandbox {

struct Policy {
  // The host view, in order: read-only binds, merged-/usr links mirrored from
  // the host, fresh tmpfs dirs, empty dirs, hidden paths.
  std::vector<MountOp> ro_binds;
  std::vector<std::string> mirror_links;  // /bin → usr/bin where the host has it
  std::vector<std::string> tmpfs;
  std::vector<std::string> dirs;
  std::vector<std::string> hide;
  bool proc = true;
  bool dev = true;
  bool noexec_writable = false;  // tmpfs and writable binds get noexec
  uint64_t tmpfs_size = 0;       // bytes per tmpfs, 0 = kernel default (half of RAM)

  NetMode net = NetMode::kLoopback;
  // "network": "distcc": the daemons ("distcc_hosts", distcc's syntax);
  // may be empty here when every caller gives them (--distcc).
  std::vector<DistccHost> distcc_hosts;
  std::string hostname = "nsbuild";
  // Ids inside; the host range comes from /etc/subuid or the defaults below.
  uid_t inside_uid = 0;
  gid_t inside_gid = 0;
  std::optional<std::pair<uint32_t, uint32_t>> host_range;  // base, count (root only)

  std::vector<Rlimit> rlimits;
  std::vector<std::string> env_keep;                         // names passed through
  std::vector<std::pair<std::string, std::string>> env_set;  // fixed values
  mode_t umask = 022;
  double timeout_seconds = 0;
  SeccompSpec seccomp;
};

// The default uid/gid range root's sandboxes map onto when /etc/subuid has no
// entry for root: above systemd's container range, below the sign bit.
inline constexpr uint32_t kDefaultHostBase = 1879048192;  // 0x70000000
inline constexpr uint32_t kDefaultHostCount = 65536;

// Parses the "sandbox" object of a policy document; `where` prefixes errors
// ("policies/default.json: $.sandbox").
base::Result<Policy> ParsePolicy(const nlohmann::json& j, const std::string& where);

}  // namespace nsbuild::sandbox
