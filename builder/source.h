// Preparing the source once per build: a directory is copied, an archive is
// unpacked (by tar, or bsdtar for a zip, in a sandbox, reading the archive
// from a descriptor we opened; with a sha256, from a private copy that was
// hashed first), into WORK/source. That tree becomes the read-only lower layer of
// every target's overlay, owned by the sandbox's ids so overlayfs can copy
// files up inside the user namespace.
//
// Trust (tests/security/THREAT_MODEL.md): the recipe's "source" is opened
// once, beneath the recipe's directory (openat2 RESOLVE_BENEATH |
// RESOLVE_NO_SYMLINKS from the directory's fd: no absolute path, no '..'
// out, no symlink anywhere on the way), and every later read goes through
// that descriptor; a directory is copied by fd, never following a symlink.
// The operator names another source with --source.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "base/result.h"
#include "base/unique_fd.h"
#include "builder/recipe.h"
#include "builder/workdir.h"
#include "sandbox/policy.h"

namespace nsbuild::builder {

// The source, opened (O_PATH): shared by the builds of a set, each of which
// reopens it for its own copy.
struct SourceRef {
  std::shared_ptr<base::UniqueFd> fd;
  std::string shown;  // for messages
  bool is_dir = false;
  // The recipe's "sha256" for its own source ("" for none, and for the
  // operator's --source): checked on a private copy before anything unpacks it.
  std::string expected_sha256;
};

// The recipe's source beneath its directory, or the operator's
// `operator_source` (a path as given, relative to the cwd) when not empty.
base::Result<SourceRef> ResolveSource(const Recipe& recipe, const std::string& operator_source);
// `rel` beneath `dir_fd` (what ResolveSource does for a recipe).
base::Result<SourceRef> OpenSourceBeneath(int dir_fd, const std::string& rel,
                                          const std::string& shown);

struct PreparedSource {
  std::string root;          // host path; a lone top-level directory is entered
  int64_t newest_mtime = 0;  // the default SOURCE_DATE_EPOCH
};

base::Result<PreparedSource> PrepareSource(const SourceRef& source, const WorkDir& work,
                                           const sandbox::Policy& policy);

// The newest mtime of anything under `dir` (an fd), symlinks not followed.
int64_t NewestMtime(int dir);

}  // namespace nsbuild::builder
