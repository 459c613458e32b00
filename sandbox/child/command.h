// The command's last steps before execve, in the process PID 1 starts
// vfork-style (CLONE_VM | CLONE_VFORK: sharing memory, PID 1 suspended until
// the exec or the failure report). The order keeps each later step possible:
// capabilities before no_new_privs before Landlock before seccomp.
#pragma once

namespace nsbuild::sandbox::child {

// The entry point for CloneOnStack; plan is a const Plan*. Never returns:
// it execs, or reports the failed step (report.h) and exits.
int CommandEntry(void* plan);

}  // namespace nsbuild::sandbox::child
