// Running a sandbox in the foreground of a command-line tool: the terminal's
// SIGINT/SIGTERM/SIGHUP/SIGQUIT go to nsbuild (the command has its own
// session), so they are forwarded to the sandbox's PID 1, which passes them
// on to the command. A timeout kills the whole sandbox.
#pragma once

#include "base/result.h"
#include "sandbox/spec.h"
#include "sandbox/write_watch.h"

namespace nsbuild::sandbox {

// With spec.watch_writes, watcher (required then) answers the notifications.
base::Result<ExitInfo> RunInForeground(const SandboxSpec& spec, WriteWatcher* watcher = nullptr);

}  // namespace nsbuild::sandbox
