// The merger's policy: which images it accepts and how it installs them.
// Parsed once, at the edge, from the policy file's top-level "merge" object;
// nothing deeper in merge/ sees JSON. The defaults are the safe ones the
// merger uses when a policy says nothing.
#pragma once

#include <sys/types.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/result.h"

namespace nsbuild::merge {

// QA notices: findings that do not block a merge unless the policy lists
// them in fatal_notices. The names are the ones policies and reports use.
inline constexpr const char* kNoticeRpath = "rpath";
inline constexpr const char* kNoticeExecstack = "execstack";
inline constexpr const char* kNoticeTextrel = "textrel";
inline constexpr const char* kNoticeEmptyDir = "empty-dir";
inline constexpr const char* kNoticePreStripped = "pre-stripped";

// A directory an image may ship group- or world-writable (sticky or not):
// the rare legitimate case, named by path with the admin's reason.
struct WritableDir {
  std::string path;    // absolute, as installed ("/var/lib/foo/spool")
  std::string reason;  // required: why others may write there
};

struct MergePolicy {
  uid_t owner_uid = 0;  // "owner": "UID:GID" or "root:root"
  gid_t owner_gid = 0;
  // Absolute prefixes an image may install under. /usr/local is refused
  // even under /usr unless listed itself.
  std::vector<std::string> allowed_prefixes = {"/usr", "/etc", "/opt", "/var/lib"};
  // Config files under these that the admin changed are never overwritten.
  std::vector<std::string> protected_config = {"/etc"};
  // security.*, trusted.* and system.* (ACL) xattr names an image may carry.
  std::vector<std::string> allowed_xattrs;
  // Group/world-writable directories allowed despite the foothold they give.
  std::vector<WritableDir> writable_dirs;
  // Notice names (kNotice*) that reject the merge instead of warning.
  std::vector<std::string> fatal_notices;
  // Where builds ran: an RPATH or a doubled prefix pointing here is a defect.
  // /nsbuild: where `nsbuild build` mounts every sub-phase's $S, $BUILD_DIR
  // and $D, so a path or RPATH naming it leaked from the build.
  std::vector<std::string> build_dirs = {"/var/tmp/nsbuild", "/build", "/tmp", "/nsbuild"};
  int64_t max_depth = 64;          // directory levels below the image root
  int64_t max_path_length = 1024;  // bytes of a path inside the image
  int64_t max_name_length = 255;   // bytes of one component
  // Bytes of one file. A build can make a sparse file of terabytes that
  // costs it no disk; hashing it would keep the merger busy for hours.
  int64_t max_file_size = int64_t{8} << 30;

  bool NoticeIsFatal(const std::string& kind) const;
};

// Reads a "merge" object; `where` names it in errors ("policy.json: $.merge").
// Unknown keys and wrong types are errors naming their JSON path.
base::Result<MergePolicy> ParseMergePolicy(const nlohmann::json& j, const std::string& where);

// "root", "0" or a number; used for the owner's two halves.
base::Result<uint32_t> ParseOwnerId(const std::string& text, const std::string& where);

}  // namespace nsbuild::merge
