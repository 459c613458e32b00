// Shared helpers for the sandbox integration tests: run a shell snippet or a
// Python snippet inside `nsbuild run` and look at what came back.
#pragma once

#include <dirent.h>
#include <sys/types.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "tests/support/harness.h"

namespace nsbuild::testing {

// nsbuild run [opts] -- /bin/sh -c script
inline CommandResult RunSh(const std::string& script, std::vector<std::string> opts = {}) {
  opts.insert(opts.begin(), "run");
  opts.insert(opts.end(), {"--", "/bin/sh", "-c", script});
  return Nsbuild(opts);
}

// nsbuild run [opts] -- python3 -c code
inline CommandResult RunPy(const std::string& code, std::vector<std::string> opts = {}) {
  opts.insert(opts.begin(), "run");
  opts.insert(opts.end(), {"--", "/usr/bin/python3", "-c", code});
  return Nsbuild(opts);
}

// Host pids whose command line (arguments joined by spaces) contains
// `needle` (prefix: starts with it), in /proc's order.
inline std::vector<pid_t> FindProcesses(const std::string& needle, bool prefix = false) {
  std::vector<pid_t> out;
  DIR* d = opendir("/proc");
  while (dirent* e = d ? readdir(d) : nullptr) {
    pid_t pid = atoi(e->d_name);
    if (pid <= 0) continue;
    std::ifstream in("/proc/" + std::string(e->d_name) + "/cmdline");
    std::string cmd((std::istreambuf_iterator<char>(in)), {});
    for (auto& c : cmd) c = c ? c : ' ';
    size_t at = cmd.find(needle);
    if (at != std::string::npos && (!prefix || at == 0)) out.push_back(pid);
  }
  if (d) closedir(d);
  return out;
}

// Python prelude: raw syscalls through ctypes, printing errno names.
inline const char* kPyPrelude = R"(
import ctypes, errno, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
def sys_call(nr, *args):
    r = libc.syscall(ctypes.c_long(nr), *[ctypes.c_ulong(a) if isinstance(a, int) else a for a in args])
    return 'ok' if r >= 0 else errno.errorcode[ctypes.get_errno()]
)";

}  // namespace nsbuild::testing
