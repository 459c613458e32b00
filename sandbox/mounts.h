// The filesystem view, child side: a private mount tree whose root is a fresh
// tmpfs, holding only what the plan names. Every step is fd-based: sources
// are opened (no symlinks anywhere in their path) before the tree changes,
// targets are walked component by component without following symlinks, and
// mounts are attached through the new mount API (open_tree / fsmount /
// move_mount) so no path is looked up twice.
//
// All functions are async-signal-safe: they run between clone and exec.
#pragma once

#include "sandbox/prepared.h"

namespace nsbuild::sandbox {

// Each returns 0, or -1 with errno set and rec->detail naming the path.
int MakeMountsPrivate(FailureRecord* rec);
int OpenMountSources(Prepared& p, FailureRecord* rec);
// Mounts a tmpfs on /tmp (any existing directory would do) and pivots into
// it; the host tree stays reachable at /oldroot until DetachOldRoot.
int EnterNewRoot(FailureRecord* rec);
int ApplyMounts(Prepared& p, FailureRecord* rec);
int DetachOldRoot(Prepared& p, FailureRecord* rec);

}  // namespace nsbuild::sandbox
