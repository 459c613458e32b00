// User namespace id maps. Run by root, the sandbox's ids map onto an
// unprivileged host range (from /etc/subuid, else a built-in default), so a
// build never runs as host root; run by a user, onto that user only.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <utility>

#include "base/result.h"
#include "sandbox/spec.h"

namespace nsbuild::sandbox {

// Parent side, between clone and releasing the child.
base::Status WriteIdMaps(pid_t child, const IdMapping& ids);

// The first /etc/subuid (or subgid) range of `user` (name or numeric id).
std::optional<std::pair<uint32_t, uint32_t>> SubordinateRange(const std::string& file,
                                                              const std::string& user, uid_t id);

// Fills the host side of a mapping for the calling user.
IdMapping ResolveIdMapping(uid_t inside_uid, gid_t inside_gid,
                           std::optional<std::pair<uint32_t, uint32_t>> root_range);

}  // namespace nsbuild::sandbox
