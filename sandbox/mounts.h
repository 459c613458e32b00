// The filesystem view, child side: a private mount tree whose root is a fresh
// tmpfs, holding only what the plan names. Every step is fd-based: sources
// are opened (no symlinks anywhere in their path) before the tree changes,
// targets are walked component by component without following symlinks, and
// mounts are attached through the new mount API (open_tree / fsmount /
// move_mount) so no path is looked up twice.
//
// They run between clone and exec in a child that shares nsbuild's memory:
// raw syscalls only (raw_syscall.h), no allocation.
#pragma once

#include "sandbox/prepared.h"

namespace nsbuild::sandbox {

// Each returns 0, or -errno with rec->detail naming the path.
int MakeMountsPrivate(FailureRecord* rec);
int OpenMountSources(Prepared& p, FailureRecord* rec);
// Mounts a tmpfs on /tmp (any existing directory would do) and pivots into
// it; the host tree stays reachable at /oldroot until DetachOldRoot.
int EnterNewRoot(FailureRecord* rec);
int ApplyMounts(Prepared& p, FailureRecord* rec);
int DetachOldRoot(Prepared& p, FailureRecord* rec);

}  // namespace nsbuild::sandbox
