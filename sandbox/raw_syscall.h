// System calls that never touch errno. The sandbox's PID 1 shares nsbuild's
// memory (CLONE_VM) and so its thread-local storage: a glibc wrapper failing
// in the child would write errno under nsbuild's running main thread. Child
// code therefore calls the kernel through Sys(), which returns the kernel's
// own result: >= 0, or -errno.
#pragma once

#include <sys/syscall.h>

#include <type_traits>

namespace nsbuild::sandbox {

inline long SysRaw(long nr, long a, long b, long c, long d, long e, long f) {
#if defined(__x86_64__)
  long ret;
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  register long r9 __asm__("r9") = f;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
  return ret;
#elif defined(__aarch64__)
  register long x8 __asm__("x8") = nr;
  register long x0 __asm__("x0") = a;
  register long x1 __asm__("x1") = b;
  register long x2 __asm__("x2") = c;
  register long x3 __asm__("x3") = d;
  register long x4 __asm__("x4") = e;
  register long x5 __asm__("x5") = f;
  __asm__ volatile("svc #0"
                   : "+r"(x0)
                   : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
                   : "memory");
  return x0;
#else
#error "nsbuild's sandbox child needs a raw syscall stub for this architecture"
#endif
}

template <typename T>
inline long ToLong(T x) {
  if constexpr (std::is_null_pointer_v<T>) {
    return 0;
  } else if constexpr (std::is_pointer_v<T>) {
    return reinterpret_cast<long>(x);
  } else {
    return static_cast<long>(x);
  }
}

template <typename... Args>
inline long Sys(long nr, Args... args) {
  static_assert(sizeof...(Args) <= 6, "at most six syscall arguments");
  long v[6] = {ToLong(args)...};
  return SysRaw(nr, v[0], v[1], v[2], v[3], v[4], v[5]);
}

}  // namespace nsbuild::sandbox
