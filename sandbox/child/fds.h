// Descriptor hygiene between clone and exec: nothing the parent had open may
// reach the sandbox (runc CVE-2024-21626) except what is passed on purpose.
#pragma once

namespace nsbuild::sandbox::child {

// Closes every fd >= 3 not in keep (sorted ascending, n entries). Uses
// close_range over the gaps, falling back to close(2) up to the fd limit on
// kernels without it. Returns 0 or -errno.
int CloseFdsExcept(const int* keep, int n);

// The same for an unsorted list: keeps `extra` (entries below 3 ignored) and
// `passed` (n_passed entries), closes every other fd >= 3. At most 64 in all.
int CloseAllBut(const int* extra, int n_extra, const int* passed, int n_passed);

// Closes every fd, 0 to 2 included, but the one or two in keep (-1 entries
// ignored). For PID 1 once the command runs. Returns 0 or -errno.
int CloseEveryFdBut(int keep_a, int keep_b);

// Sends n descriptors (at most 32) with one data byte in one SCM_RIGHTS
// message over `sock`, without allocating. 0 or -errno.
int SendFds(int sock, const int* fds, int n);

// Clears FD_CLOEXEC so a passed fd survives execve. 0 or -errno.
int KeepAcrossExec(int fd);

}  // namespace nsbuild::sandbox::child
