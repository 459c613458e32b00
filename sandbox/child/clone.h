// clone with a separate stack, without glibc. Used for PID 1 (by the parent)
// and for the command (by PID 1).
//
// Why not glibc's clone(): it is safe with CLONE_VM (its assembly moves the
// child onto the new stack before any C runs), but on failure it writes
// errno — in PID 1 that is the TLS of nsbuild's main thread, which PID 1
// shares — and PID 1 then had no way to learn the real error. Why not
// syscall(SYS_clone, ...) or a raw syscall in C: with a new stack and
// CLONE_VM the child resumes in the caller's C frame with the stack pointer
// on the empty new stack, so the first spill or return reads garbage. So the
// child's first instructions must be assembly that never returns to C: the
// few lines in clone.cc, which call fn(arg) on the new stack and exit with
// its result, as glibc's clone.S, musl's __clone and bionic's do. Nothing
// there touches errno or thread-local storage.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace nsbuild::sandbox::child {

// Starts fn(arg) in a new process on [stack, stack + stack_size), with
// clone3 `flags` (CLONE_* , may include CLONE_VM, CLONE_VFORK, CLONE_PIDFD)
// and `exit_signal`. *pidfd receives the pidfd with CLONE_PIDFD. Returns the
// child's pid, or -errno; never returns in the child (fn's result is its
// exit status). Falls back to clone(2) where clone3 answers ENOSYS (kernels
// before 5.3, container seccomp profiles that hide it).
long CloneOnStack(uint64_t flags, int exit_signal, int* pidfd, char* stack, size_t stack_size,
                  int (*fn)(void*), void* arg);

}  // namespace nsbuild::sandbox::child
