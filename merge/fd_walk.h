// Walking directory trees through fds without ever following a symlink.
// Both sides of a merge go through here: a hostile image and a destination
// where an earlier package (or an attacker) may have planted symlinks. Every
// path is resolved one component at a time under a directory fd we opened.
#pragma once

#include <sys/stat.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"

namespace nsbuild::merge {

// Opens `dir` itself (an absolute or cwd-relative path) as a directory fd;
// a symlink as the last component is refused.
base::Result<base::UniqueFd> OpenRootDir(const std::string& dir);

// Opens the directory at relative path `rel` under `root` ("" is root
// itself). Uses openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|
// RESOLVE_NO_MAGICLINKS) where the kernel has it, else walks component by
// component with O_NOFOLLOW; either way no symlink is followed and nothing
// outside `root` is reached. Mount points may be crossed: a destination can
// have its own /usr filesystem.
base::Result<base::UniqueFd> OpenDirBeneath(base::BorrowedFd root, std::string_view rel);

// Like OpenDirBeneath, but creates missing directories with `mode` (then
// fchmod, so umask does not decide) and reports which ones it created,
// shallowest first, as relative paths.
base::Result<base::UniqueFd> MakeDirsBeneath(base::BorrowedFd root, std::string_view rel,
                                             mode_t mode, std::vector<std::string>* created);

// "a/b/c" → {"a/b", "c"}; "c" → {"", "c"}.
std::pair<std::string, std::string> SplitParent(std::string_view rel);

// Joins two relative paths, either of which may be empty.
std::string JoinRel(std::string_view a, std::string_view b);

// lstat of `rel` under `root` without following any symlink on the way.
// Returns false when it (or a parent) does not exist.
base::Result<bool> LstatBeneath(base::BorrowedFd root, std::string_view rel, struct stat* st);

// sha256 of the regular file at `rel` under `root` (opened O_NOFOLLOW
// beneath it), lowercase hex.
base::Result<std::string> HashBeneath(base::BorrowedFd root, std::string_view rel);

}  // namespace nsbuild::merge
