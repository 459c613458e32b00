// The syscalls the write watcher is notified of, and where their paths are.
//
// How we know the list is complete (x86_64): it is every entry of the
// kernel's syscall_64.tbl whose man page says it creates, opens for writing,
// truncates, removes, renames, links, or changes mode, owner or times of a
// *path*, plus bind(2) (a unix socket path creates an inode). Calls that act
// only on an fd (write, ftruncate, fchmod, fchown, fallocate, ...) act on
// something already opened — and that open was watched. The rest is closed
// elsewhere: openat2 returns ENOSYS and io_uring, the xattr writes, mount and
// name_to_handle-style calls are refused by the deny filter, whose verdict
// wins over a notification.
#pragma once

#include <vector>

namespace nsbuild::sandbox {

struct PathArg {
  int dirfd_arg = -1;  // index of the dirfd argument; -1 means AT_FDCWD
  int path_arg = -1;   // index of the path argument; -1 means none
};

struct WatchedCall {
  const char* name;
  int x86_64_nr;
  int flags_arg;          // open-like: only flags with a write bit are notified; -1: all
  PathArg first;          // the path written (or the old name of a rename)
  PathArg second;         // the new name of a rename; unused otherwise
  bool sockaddr = false;  // bind: the path is in a sockaddr_un
};

const std::vector<WatchedCall>& WatchedCalls();

}  // namespace nsbuild::sandbox
