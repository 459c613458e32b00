// Sealing an image: after the sandbox's pid namespace is gone, take the
// image out of the build's reach before anything of it is trusted. Every
// inode that will be linked into the destination is given to the policy's
// owner, so the build uid can no longer write it (a hardlink shares the
// inode: without this the build could rewrite an installed file later).
#pragma once

#include <cstdint>
#include <optional>

#include "base/result.h"
#include "merge/image_scan.h"
#include "merge/merge_policy.h"

namespace nsbuild::merge {

struct SealOptions {
  // Clamp mtimes to this (SOURCE_DATE_EPOCH) when set.
  std::optional<int64_t> source_date_epoch;
};

// Changes ownership (clamps mtimes, strips xattrs the policy does not
// allow) of every directory and symlink in
// `img`, top-down, re-checking each is the one scanned: once its
// directories belong to the policy's owner, the build uid can no longer
// add, remove or swap a name in the image. Regular files are sealed by the
// content pass (content.h), through the fd it opens anyway, after checking
// the inode is still the scanned one. Without root, ownership stays the
// caller's.
base::Status SealImage(ScannedImage& img, const MergePolicy& policy, const SealOptions& opts);

// Lists an open regular file's xattrs once, into e.xattrs (what the checks
// judge), and removes every one the policy does not allow (ACLs and user.*
// included): chown keeps a named-user ACL entry, so an ACL set before the
// seal would otherwise outlive it. Called after SealFile's chown, so the
// build uid can add none after this listing. A name not removable without
// privileges (security.*, trusted.*) is left for the checks to reject.
// `*stripped` says whether anything was removed (the inode's ctime moved).
base::Status StripXattrs(int fd, ImageEntry& e, const MergePolicy& policy, bool* stripped);

// The file half: fchown/futimens on an open regular file of the image.
// Inodes with links outside the image are never passed here: changing them
// would change a host file (the checks reject them). `st` is the fd's
// fstat, taken after any other name of the same inode could have been
// sealed (a needless chown or utimes would move the inode's ctime).
// `*changed` says whether it chowned or clamped anything.
base::Status SealFile(int fd, ImageEntry& e, const MergePolicy& policy, const SealOptions& opts,
                      const struct stat& st, bool* changed);

}  // namespace nsbuild::merge
