#include "sandbox/user_ns.h"

#include <fcntl.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "base/fs.h"
#include "sandbox/policy.h"

namespace nsbuild::sandbox {
namespace {

using base::ErrnoError;
using base::Status;

Status WriteProcFile(pid_t pid, const char* name, const std::string& text) {
  std::string path = "/proc/" + std::to_string(pid) + "/" + name;
  base::UniqueFd fd(open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) return ErrnoError("open " + path);
  // One write(2): the kernel parses the whole map from a single write.
  ssize_t n = write(fd.get(), text.data(), text.size());
  if (n != static_cast<ssize_t>(text.size()))
    return ErrnoError("write " + path + " '" + text + "'");
  return {};
}

}  // namespace

Status WriteIdMaps(pid_t child, const IdMapping& ids) {
  // An unprivileged caller must deny setgroups before writing gid_map; root
  // keeps it so the child can drop root's supplementary groups (setgroups(0)),
  // which would otherwise still grant group-0 access to host files.
  if (ids.CallerOwnsIt()) NSB_TRY(WriteProcFile(child, "setgroups", "deny"));
  uint32_t uid_inside = ids.IsRange() ? 0 : ids.inside_uid;
  uint32_t gid_inside = ids.IsRange() ? 0 : ids.inside_gid;
  NSB_TRY(WriteProcFile(child, "uid_map",
                        std::to_string(uid_inside) + " " + std::to_string(ids.host_uid_base) + " " +
                            std::to_string(ids.count) + "\n"));
  NSB_TRY(WriteProcFile(child, "gid_map",
                        std::to_string(gid_inside) + " " + std::to_string(ids.host_gid_base) + " " +
                            std::to_string(ids.count) + "\n"));
  return {};
}

std::optional<std::pair<uint32_t, uint32_t>> SubordinateRange(const std::string& file,
                                                              const std::string& user, uid_t id) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string name, start, count;
    if (!std::getline(fields, name, ':') || !std::getline(fields, start, ':') ||
        !std::getline(fields, count)) {
      continue;
    }
    if (name != user && name != std::to_string(id)) continue;
    try {
      return std::make_pair(static_cast<uint32_t>(std::stoul(start)),
                            static_cast<uint32_t>(std::stoul(count)));
    } catch (...) {
      continue;
    }
  }
  return std::nullopt;
}

IdMapping ResolveIdMapping(uid_t inside_uid, gid_t inside_gid,
                           std::optional<std::pair<uint32_t, uint32_t>> root_range) {
  IdMapping m;
  m.inside_uid = inside_uid;
  m.inside_gid = inside_gid;
  m.caller_owns = geteuid() != 0;
  if (m.caller_owns) {
    m.host_uid_base = geteuid();
    m.host_gid_base = getegid();
    m.count = 1;
    return m;
  }
  auto uids = root_range ? root_range : SubordinateRange("/etc/subuid", "root", 0);
  auto gids = root_range ? root_range : SubordinateRange("/etc/subgid", "root", 0);
  m.host_uid_base = uids ? uids->first : kDefaultHostBase;
  m.host_gid_base = gids ? gids->first : kDefaultHostBase;
  uint32_t ucount = uids ? uids->second : kDefaultHostCount;
  uint32_t gcount = gids ? gids->second : kDefaultHostCount;
  m.count = std::min(ucount, gcount);
  return m;
}

Status CheckCoversCommand(const IdMapping& ids) {
  if (ids.CoversCommand()) return {};
  return base::PlainError("inside uid/gid must lie within the mapped range of " +
                          std::to_string(ids.count) + " ids");
}

base::Result<IdMapping> PolicyIdMapping(const Policy& policy) {
  IdMapping ids = ResolveIdMapping(policy.inside_uid, policy.inside_gid, policy.host_range);
  NSB_TRY(CheckCoversCommand(ids));
  return ids;
}

}  // namespace nsbuild::sandbox
