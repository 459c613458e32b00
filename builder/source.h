// Preparing the source once per build: a directory is copied, a tarball is
// unpacked (by tar, in a sandbox, reading the archive from a descriptor we
// opened), into WORK/source. That tree becomes the read-only lower layer of
// every target's overlay, owned by the sandbox's ids so overlayfs can copy
// files up inside the user namespace.
#pragma once

#include <cstdint>
#include <string>

#include "base/result.h"
#include "builder/workdir.h"
#include "sandbox/policy.h"

namespace nsbuild::builder {

struct PreparedSource {
  std::string root;          // host path; a lone top-level directory is entered
  int64_t newest_mtime = 0;  // the default SOURCE_DATE_EPOCH
};

base::Result<PreparedSource> PrepareSource(const std::string& source, const WorkDir& work,
                                           const sandbox::Policy& policy);

// The newest mtime of anything under `root`, symlinks not followed.
int64_t NewestMtime(const std::string& root);

}  // namespace nsbuild::builder
