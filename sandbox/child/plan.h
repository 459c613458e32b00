// What the child reads: the spec turned by the parent (prepare.cc) into plain
// data — C strings, counted arrays, the compiled BPF programs, descriptor
// numbers — so that nothing between clone and exec allocates, parses or
// calls into a library. The parent owns every byte these pointers reach
// (Prepared, prepared.h) and keeps it alive until PID 1 is reaped.
//
// Run by root, PID 1 shares nsbuild's memory: the plan is read-only to the
// child except source_fds, the one scratch array it fills.
#pragma once

#include <linux/filter.h>
#include <netinet/in.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

namespace nsbuild::sandbox::child {

// One filesystem operation of the new root, executed in order. Composite
// views (a minimal /dev, merged-/usr links) are expanded by the planner, so
// the child only ever runs primitive steps. (spec.h names this type
// sandbox::MountKind for the parent side.)
enum class MountKind {
  kBind,       // source (host path) → target, writable
  kRoBind,     // source → target, read-only, recursively
  kTmpfs,      // fresh tmpfs at target
  kProc,       // fresh procfs of the sandbox's pid namespace
  kDevpts,     // new devpts instance (newinstance, ptmx 0666)
  kSymlink,    // target becomes a symlink whose text is `source`
  kDir,        // an empty directory at target (on a writable parent)
  kHide,       // whatever is at target is covered: empty ro tmpfs or /dev/null
  kRemountRo,  // make the mount at target read-only
  kOverlay,    // overlayfs: lower = source (host, read-only), upper/work (host)
};

struct Mount {
  MountKind kind;
  const char* source;  // host path, or symlink text
  const char* target;  // inside path
  bool optional;
  bool noexec;
  bool allow_devices;
  const char* size_opt;  // "" or a byte count, for tmpfs fsconfig
  const char* mode_opt;  // octal text, for tmpfs/dir
  uint32_t mode;
  const char* overlay_lower;  // "/oldroot"-prefixed host paths (after pivot)
  const char* overlay_upper;
  const char* overlay_work;
};

struct Rlimit {
  int resource;  // RLIMIT_*
  uint64_t soft;
  uint64_t hard;
};

struct Plan {
  char* const* argv;  // null-terminated
  char* const* envp;  // null-terminated
  const Mount* mounts;
  int mount_count;
  int* source_fds;            // mount_count slots, written by PID 1 (O_PATH fds of bind sources)
  struct sock_fprog seccomp;  // len 0: no deny filter
  struct sock_fprog watch_filter;  // len 0: writes are not watched
  const int* keep_fds;             // sorted: fds the command inherits (pass_fds)
  int keep_count;
  const Rlimit* rlimits;
  int rlimit_count;

  const char* hostname;
  const char* domainname;
  unsigned long personality;  // 0: leave the default
  bool set_affinity;
  cpu_set_t affinity;
  const char* cwd;
  bool loopback;  // bring lo up in the new network namespace
  // Network "distcc": where PID 1 listens (spec.forwards order).
  const sockaddr_in* listen_addrs;
  int listen_count;
  int landlock_fd;  // the ruleset the command enforces on itself; -1: none
  uid_t uid;
  gid_t gid;
  bool drop_groups;  // root caller: setgroups(0) is allowed and done
  mode_t umask;
  int stdin_fd, stdout_fd, stderr_fd;  // -1: inherit
  int cap_last;                        // highest capability number, read by the parent

  // Stacks for the clones (clone.h): PID 1's, which lives as long as the
  // sandbox, and the command's vfork-style start. stack_size bytes each.
  char* init_stack;
  char* command_stack;
  size_t stack_size;

  // Descriptors, set by Sandbox::Start.
  int sync_read;     // one byte: the id maps are written
  int error_write;   // FailureRecord (report.h); O_CLOEXEC, so EOF = exec done
  int status_write;  // PID 1 writes the command's wait status
  int notify_sock;   // the command sends its seccomp listener here (-1: none)
  int listen_sock;   // PID 1 sends the forwarding listeners here (-1: none)
};

}  // namespace nsbuild::sandbox::child
