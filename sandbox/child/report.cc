#include "sandbox/child/report.h"

#include "sandbox/child/sys.h"

namespace nsbuild::sandbox::child {

int Fail(FailureRecord* rec, int rc, const char* a, const char* b) {
  unsigned n = 0;
  const char* parts[2] = {a, b};
  for (const char* s : parts) {
    for (; s && *s && n + 1 < sizeof rec->detail; ++s) rec->detail[n++] = *s;
  }
  rec->detail[n] = '\0';
  return rc;
}

[[noreturn]] void Exit(int code) {
  Sys(SYS_exit_group, code);
  __builtin_unreachable();
}

[[noreturn]] void Die(int error_fd, FailureRecord* rec, Step step, int rc) {
  rec->step = static_cast<int32_t>(step);
  rec->errnum = -rc;
  // One write of a fixed-size record: atomic on a pipe, no partial reads.
  Sys(SYS_write, error_fd, rec, sizeof *rec);
  Exit(kSetupFailed);
}

}  // namespace nsbuild::sandbox::child
