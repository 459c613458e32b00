// Acting on directories through file descriptors, for code that runs as root
// next to places other people (a recipe's author, a sandbox, another local
// user) can write. tests/security/THREAT_MODEL.md says which places those are.
//
//  - OpenTrustedDir / OpenTrustedFile open a path the operator named (a work
//    dir, a policy file) one component at a time from "/", checking every
//    directory on the way: when `check` is on, each must be owned by one of
//    `owners` and not writable by group or others, so nobody else can swap a
//    component for a symlink. One exception, as for /tmp: a root-owned sticky
//    directory may be writable by everyone when the entry we step into is
//    owned by one of `owners` (the sticky bit lets only that entry's owner,
//    the directory's owner or root rename or remove it). The fd returned is
//    the object that was checked; callers use it, never the path again.
//  - OpenBeneath opens a relative path under a directory fd without following
//    any symlink and without leaving the directory (openat2 RESOLVE_BENEATH |
//    RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS).
//  - RemoveTreeAt, MakeFreshDirAt, WriteFileAtomicAt: removal, creation and
//    atomic replacement by fd, never following a symlink, never crossing a
//    mount point.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"

namespace nsbuild::base {

// Who may own the directories (and files) on a checked path.
struct TrustCheck {
  bool check = false;         // off: the walk only opens, like the kernel would
  std::vector<uid_t> owners;  // e.g. {0} for policy files, {0, euid} for a work dir
};
// What nsbuild checks by default: on when running as root, owners root and
// the caller (the same when root).
TrustCheck DefaultTrustCheck();
// Only root may own: policy files when running as root.
TrustCheck RootOnlyTrustCheck();

// Why directory `dir` (shown as `where`) on a path cannot be trusted, "" if
// it can. `next_owner`: the owner of the entry below it that the path steps
// into, nullopt when `dir` is the last component (then the sticky exception
// does not apply: things are created in it).
std::string DirTrustProblem(const struct stat& dir, const std::string& where,
                            std::optional<uid_t> next_owner, const std::vector<uid_t>& owners);
// The same for a file at the end of a path.
std::string FileTrustProblem(const struct stat& file, const std::string& where,
                             const std::vector<uid_t>& owners);

// Opens the directory `path` (absolute, or relative to the cwd), walking from
// "/" as described above. With `create`, missing directories are made (mode
// 0755, owned by the caller) and checked like the others.
Result<UniqueFd> OpenTrustedDir(const std::string& path, const TrustCheck& check,
                                bool create = false);
// Opens a regular file for reading, with the same walk; the file itself must
// be owned by one of `owners` and not writable by group or others.
Result<UniqueFd> OpenTrustedFile(const std::string& path, const TrustCheck& check);

// openat2(dir, rel, flags | O_CLOEXEC | O_NOFOLLOW, RESOLVE_BENEATH |
// RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS); on kernels without openat2,
// a component walk with O_NOFOLLOW that refuses "..". `rel` must be relative.
Result<UniqueFd> OpenBeneath(BorrowedFd dir, const std::string& rel, int flags, mode_t mode = 0);

// The mount id of what `fd` refers to (statx STATX_MNT_ID, else
// /proc/self/fdinfo, which never calls into the filesystem).
Result<uint64_t> MountIdOf(BorrowedFd fd);

// Removes `name` in `dir` (a file, a symlink, or a whole tree), walking by
// fd: symlinks are removed as links, directories are made u+rwx first (an
// overlayfs work dir is mode 000), and a mount point anywhere in the tree is
// an error, never entered. Missing: fine.
Status RemoveTreeAt(BorrowedFd dir, const std::string& name);

// Removes whatever is at `name` in `dir`, creates a new directory there with
// `mode` (fchmod, so the umask does not decide) and returns it opened.
Result<UniqueFd> MakeFreshDirAt(BorrowedFd dir, const std::string& name, mode_t mode);
// Opens directory `name` in `dir` (no symlink, not a mount point's outside).
Result<UniqueFd> OpenDirAt(BorrowedFd dir, const std::string& name);

// Writes `name`.tmp in `dir` (created afresh with O_EXCL | O_NOFOLLOW),
// fsyncs, and renames it over `name`.
Status WriteFileAtomicAt(BorrowedFd dir, const std::string& name, std::string_view data,
                         mode_t mode = 0644);

// The names in directory `dir` but "." and "..", read through a duplicate
// of the fd (so `dir`'s own offset is untouched); empty when unreadable.
std::vector<std::string> ListNames(int dir);

// Calls fn(dir_fd, name, stat) for every entry under `dir`, depth first,
// parents before children; directories are entered through openat with
// O_NOFOLLOW, symlinks never followed. Mount points are not entered.
// fn returns false to skip a directory's contents.
Status WalkTreeAt(
    BorrowedFd dir,
    const std::function<bool(int dir_fd, const std::string& rel, const struct stat& st)>& fn);

// Reads what `fd` holds from its current offset, at most `max` bytes (more
// is an error naming `what`).
Result<std::string> ReadFdBounded(BorrowedFd fd, const std::string& what, size_t max);

// "/proc/self/fd/N": the path through which a syscall without an fd variant
// reaches exactly the object `fd` refers to.
std::string ProcFdPath(int fd);

}  // namespace nsbuild::base
