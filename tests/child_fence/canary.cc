// What the sandbox child must never call, compiled with the child's flags
// (nsbuild_sandbox_child_flags): the ctest sandbox_child_symbols_rejects
// runs check_symbols.sh on it and passes only if every one is named. So the
// fence is seen to fail, not only to pass.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <string>

namespace nsbuild::sandbox::child::canary {

// strerror: glibc's message table, locale and a thread-local buffer.
int Strerror(int e) { return strerror(e)[0]; }

// malloc: glibc's arena locks, which nsbuild's other threads may hold.
void* Allocate(size_t n) { return malloc(n); }

// std::string: operator new (and, without exceptions, still its throw path).
size_t StdString(const char* s) {
  std::string copy(s);
  return copy.size();
}

// stdio, as a log line would: FILE locks and buffers shared with nsbuild.
void Log(const char* s) { fprintf(stderr, "%s\n", s); }

}  // namespace nsbuild::sandbox::child::canary
