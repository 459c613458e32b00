#include "sandbox/child/clone.h"

#include <errno.h>
#include <linux/sched.h>

#include "sandbox/child/sys.h"

namespace nsbuild::sandbox::child {
namespace {

// One clone-family syscall (nr with up to five arguments) whose child runs
// fn(arg) and exits. In the parent this is an ordinary syscall: the result
// is the pid or -errno. In the child (rax == 0) the stack pointer is already
// the new stack's top, and nothing of this C frame may be used: the
// assembly loads fn and arg first (either may have been given rbp), then
// clears the frame pointer (so debuggers see the outermost frame), aligns
// the stack, calls fn and passes its result to exit(2). fn and arg
// sit in registers the kernel preserves across syscall (all but rax, rcx,
// r11), which the constraints below guarantee.
long CloneTrampoline(long nr, long a0, long a1, long a2, long a3, long a4, int (*fn)(void*),
                     void* arg) {
  long ret;
  register long r10 __asm__("r10") = a3;
  register long r8 __asm__("r8") = a4;
  __asm__ volatile(
      "syscall\n\t"
      "testq %%rax, %%rax\n\t"
      "jnz 1f\n\t"
      "movq %[arg], %%rdi\n\t"
      "movq %[fn], %%rax\n\t"
      "xorl %%ebp, %%ebp\n\t"
      "andq $-16, %%rsp\n\t"
      "callq *%%rax\n\t"
      "movl %%eax, %%edi\n\t"
      "movl %[exit_nr], %%eax\n\t"
      "syscall\n\t"
      "hlt\n"
      "1:"
      : "=a"(ret)
      : "a"(nr), "D"(a0), "S"(a1), "d"(a2), "r"(r10),
        "r"(r8), [fn] "r"(fn), [arg] "r"(arg), [exit_nr] "i"(SYS_exit)
      : "rcx", "r11", "memory", "cc");
  return ret;
}

}  // namespace

long CloneOnStack(uint64_t flags, int exit_signal, int* pidfd, char* stack, size_t stack_size,
                  int (*fn)(void*), void* arg) {
  struct clone_args args = {};
  args.flags = flags;
  args.pidfd = ToLong(pidfd);
  args.exit_signal = static_cast<uint64_t>(exit_signal);
  args.stack = ToLong(stack);
  args.stack_size = stack_size;
  long rc = CloneTrampoline(SYS_clone3, ToLong(&args), sizeof args, 0, 0, 0, fn, arg);
  if (rc != -ENOSYS) return rc;
  // clone(2) on x86_64: flags | exit signal, stack top, parent_tid (where
  // CLONE_PIDFD stores the pidfd), child_tid, tls.
  return CloneTrampoline(SYS_clone, static_cast<long>(flags) | exit_signal,
                         ToLong(stack + stack_size), ToLong(pidfd), 0, 0, fn, arg);
}

}  // namespace nsbuild::sandbox::child
