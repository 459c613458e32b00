// The sandbox's inside, from clone to exec: PID 1 of the new pid namespace.
// It waits for its id maps, builds the filesystem view, network and
// hostname, starts the command (child/command.h), then stays as init —
// reaping, forwarding signals, and reporting the command's status. When it
// exits the kernel kills whatever is left in the namespace.
//
// Run by root, PID 1 is cloned with CLONE_VM: it shares nsbuild's memory
// instead of copying its page tables (a copying fork costs milliseconds on
// small VMs, and more the bigger the builder grows). That sharing is why
// this folder is a fence (child/CMakeLists.txt): raw syscalls only
// (child/sys.h) so nsbuild's errno is never written, no allocation, no
// exceptions, no spdlog, no libc beyond what allowed_symbols.txt lists,
// nothing written but PID 1's own stack and Plan::source_fds. PID 1 makes
// its memory non-dumpable and drops every capability before the command
// exists, so nothing inside can ptrace it or open /proc/1/mem. Run by a user,
// PID 1 is a copying clone instead: a non-dumpable shared memory would make
// nsbuild's own /proc files root-owned, and an unprivileged nsbuild writes
// its next sandbox's id maps there. The same code serves both.
#pragma once

namespace nsbuild::sandbox::child {

// PID 1's entry point for CloneOnStack (child/clone.h); plan is a const
// Plan* (child/plan.h) that outlives PID 1. Never returns.
int Pid1Entry(void* plan);

}  // namespace nsbuild::sandbox::child
