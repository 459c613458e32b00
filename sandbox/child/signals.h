// The signals PID 1 forwards to the command, as the kernel's sigset (one bit
// per signal) so the rt_sig* syscalls take it without glibc's sigset_t.
#pragma once

#include <signal.h>
#include <stdint.h>

namespace nsbuild::sandbox::child {

// Signals PID 1 passes on to the command; everything else it keeps default.
constexpr int kForwarded[] = {SIGTERM, SIGINT,  SIGHUP,   SIGQUIT,
                              SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT};

using KernelSigset = uint64_t;
constexpr KernelSigset Bit(int sig) { return KernelSigset{1} << (sig - 1); }

}  // namespace nsbuild::sandbox::child
