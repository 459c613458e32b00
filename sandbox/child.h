// The sandbox's inside, from clone to exec. ChildMain runs as PID 1 of the
// new pid namespace: it waits for its id maps, builds the filesystem view,
// network and hostname, starts the command, then stays as init — reaping,
// forwarding signals, and reporting the command's status. When it exits the
// kernel kills whatever is left in the namespace.
//
// Run by root, PID 1 is cloned with CLONE_VM: it shares nsbuild's memory
// instead of copying its page tables (a copying fork costs milliseconds on
// small VMs, and more the bigger the builder grows). That sharing sets the
// rules here: raw syscalls only (raw_syscall.h) so nsbuild's errno is never
// written, no allocation, no exceptions, no spdlog, nothing written but PID
// 1's own stack and Prepared::source_fds. PID 1 makes the memory non-dumpable
// and drops every capability before the command exists, so nothing inside can
// ptrace it or open /proc/1/mem. Run by a user, PID 1 is a copying fork
// instead: a non-dumpable shared memory would make nsbuild's own /proc files
// root-owned, and an unprivileged nsbuild writes its next sandbox's id maps
// there. The same code serves both.
#pragma once

#include "sandbox/prepared.h"

namespace nsbuild::sandbox {

// The clone entry point for a shared-memory PID 1; arg is the Prepared*.
int ChildEntry(void* arg);
// The same, continuing after a copying clone.
[[noreturn]] void ChildMain(Prepared& p);

}  // namespace nsbuild::sandbox
