// The sandbox's inside, from clone to exec. ChildMain runs as PID 1 of the
// new pid namespace: it waits for its id maps, builds the filesystem view,
// network and hostname, forks the command, then stays as init — reaping,
// forwarding signals, and reporting the command's status. When it exits the
// kernel kills whatever is left in the namespace.
//
// Rules here: no allocation, no exceptions, no spdlog; a failed step writes a
// FailureRecord to the error pipe and exits 125.
#pragma once

#include "sandbox/prepared.h"

namespace nsbuild::sandbox {

[[noreturn]] void ChildMain(Prepared& p, int cap_last);

}  // namespace nsbuild::sandbox
