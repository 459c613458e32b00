// User namespace id maps. Run by root, the sandbox's ids map onto an
// unprivileged host range (from /etc/subuid, else a built-in default), so a
// build never runs as host root; run by a user, onto that user only.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <utility>

#include "base/result.h"
#include "sandbox/policy.h"
#include "sandbox/spec.h"

namespace nsbuild::sandbox {

// Parent side, between clone and releasing the child.
base::Status WriteIdMaps(pid_t child, const IdMapping& ids);

// The first /etc/subuid (or subgid) range of `user` (name or numeric id).
std::optional<std::pair<uint32_t, uint32_t>> SubordinateRange(const std::string& file,
                                                              const std::string& user, uid_t id);

// Fills the host side of a mapping for the calling user: its own ids when
// unprivileged; run by root, `root_range` (a policy's host range) or root's
// /etc/subuid and /etc/subgid ranges, else the defaults.
IdMapping ResolveIdMapping(uid_t inside_uid, gid_t inside_gid,
                           std::optional<std::pair<uint32_t, uint32_t>> root_range);

// The mapping of every sandbox of `policy` for the calling user, with the
// policy's inside ids checked to lie in it. Without planning a sandbox: the
// host ids are needed before there is anything to plan (directories to
// chown first), and a policy that cannot plan alone (network distcc
// without daemons, given later by --distcc) still has ids.
base::Result<IdMapping> PolicyIdMapping(const Policy& policy);

// Refuses inside ids the mapping does not cover.
base::Status CheckCoversCommand(const IdMapping& ids);

}  // namespace nsbuild::sandbox
