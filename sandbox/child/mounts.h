// The filesystem view, child side: a private mount tree whose root is a fresh
// tmpfs, holding only what the plan names. Every step is fd-based: sources
// are opened (no symlinks anywhere in their path) before the tree changes,
// targets are walked component by component without following symlinks, and
// mounts are attached through the new mount API (open_tree / fsmount /
// move_mount) so no path is looked up twice. The parent planned every
// operation (plan.cc, prepare.cc); this file only issues the syscalls.
#pragma once

#include "sandbox/child/plan.h"
#include "sandbox/child/report.h"

namespace nsbuild::sandbox::child {

// Each returns 0, or -errno with rec->detail naming the path.
int MakeMountsPrivate(FailureRecord* rec);
// Opens every bind source into p.source_fds, and /dev/null (for hidden
// files) into *devnull, while the host tree is still the root.
int OpenMountSources(const Plan& p, int* devnull, FailureRecord* rec);
// Mounts a tmpfs on /tmp (any existing directory would do) with an
// "oldroot" directory in it...
int MountNewRoot(FailureRecord* rec);
// ...and pivots into it; the host tree stays reachable at /oldroot until
// DetachOldRoot.
int PivotIntoNewRoot(FailureRecord* rec);
int ApplyMounts(const Plan& p, int devnull, FailureRecord* rec);
// Closes the source fds and *devnull, detaches /oldroot, makes / read-only.
int DetachOldRoot(const Plan& p, int* devnull, FailureRecord* rec);

}  // namespace nsbuild::sandbox::child
