// The few string operations the child needs, allocation-free and without
// libc: the child library is built with -fno-builtin (child/CMakeLists.txt),
// and its symbol test allows no string function, so these small loops are
// what runs. (The compiler may still emit memcpy/memset for aggregate copies;
// allowed_symbols.txt says why that is safe.)
#pragma once

#include <stddef.h>

namespace nsbuild::sandbox::child {

inline size_t Length(const char* s) {
  size_t n = 0;
  while (s[n]) ++n;
  return n;
}

// Like strnlen: at most max.
inline size_t LengthAtMost(const char* s, size_t max) {
  size_t n = 0;
  while (n < max && s[n]) ++n;
  return n;
}

// The first c in s, or its terminating NUL (strchrnul).
inline const char* FindOrEnd(const char* s, char c) {
  while (*s && *s != c) ++s;
  return s;
}
inline char* FindOrEnd(char* s, char c) {
  while (*s && *s != c) ++s;
  return s;
}

inline bool Contains(const char* s, char c) { return *FindOrEnd(s, c) == c; }

inline bool Equal(const char* a, const char* b) {
  while (*a && *a == *b) {
    ++a;
    ++b;
  }
  return *a == *b;
}

// s starts with "name=": the value after it, else null.
inline const char* ValueOf(const char* entry, const char* name, size_t len) {
  for (size_t i = 0; i < len; ++i) {
    if (entry[i] != name[i]) return nullptr;
  }
  return entry[len] == '=' ? entry + len + 1 : nullptr;
}

inline void CopyBytes(void* to, const void* from, size_t n) {
  auto* d = static_cast<unsigned char*>(to);
  const auto* s = static_cast<const unsigned char*>(from);
  for (size_t i = 0; i < n; ++i) d[i] = s[i];
}

inline void ZeroBytes(void* to, size_t n) {
  auto* d = static_cast<unsigned char*>(to);
  for (size_t i = 0; i < n; ++i) d[i] = 0;
}

}  // namespace nsbuild::sandbox::child
