// System calls that never touch errno. Run by root, the sandbox's PID 1
// shares nsbuild's memory (CLONE_VM) and so its thread-local storage: a glibc
// wrapper failing in the child would write errno under nsbuild's running main
// thread. Child code therefore calls the kernel through Sys(), which returns
// the kernel's own result: >= 0, or -errno.
//
// x86_64 only: the top-level CMakeLists.txt refuses other architectures
// (README "Development" says what a port needs).
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>

namespace nsbuild::sandbox::child {

#if !defined(__x86_64__)
#error "nsbuild's sandbox child has raw syscall stubs for x86_64 only"
#endif

inline long SysRaw(long nr, long a, long b, long c, long d, long e, long f) {
  long ret;
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  register long r9 __asm__("r9") = f;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
  return ret;
}

// Every argument becomes a long, as the kernel sees it (no <type_traits>:
// the child includes C and kernel headers only).
inline long ToLong(decltype(nullptr)) { return 0; }
template <typename T>
inline long ToLong(T* x) {
  return reinterpret_cast<long>(x);
}
template <typename T>
inline long ToLong(T x) {
  return static_cast<long>(x);
}

template <typename... Args>
inline long Sys(long nr, Args... args) {
  static_assert(sizeof...(Args) <= 6, "at most six syscall arguments");
  long v[6] = {ToLong(args)...};
  return SysRaw(nr, v[0], v[1], v[2], v[3], v[4], v[5]);
}

// A syscall result as the child's steps return it: 0, or -errno.
inline int AsRc(long rc) { return rc < 0 ? static_cast<int>(rc) : 0; }

}  // namespace nsbuild::sandbox::child
