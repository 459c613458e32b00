// The work dir of one build: the unpacked source, each target's private
// directories (overlay upper and work, BUILD_DIR, image D, T, HOME), logs.
// A build starts by emptying it, so a run after a crash or Ctrl-C starts
// clean; it is left in place afterwards for logs and images.
//
//   WORK/source/            the unpacked source (lower layer of every overlay)
//   WORK/targets/NAME/{upper,ovl-work,build,image,tmp,home}
//   WORK/logs/NAME-PHASE.log
#pragma once

#include <string>
#include <sys/types.h>

#include "base/result.h"

namespace nsbuild::builder {

struct TargetDirs {
  std::string root, upper, ovl_work, build, image, tmp, home;
};

class WorkDir {
 public:
  // Empties (or creates) `path`, then creates the top-level layout.
  static base::Result<WorkDir> Prepare(const std::string& path);

  const std::string& path() const { return path_; }
  std::string source_dir() const { return path_ + "/source"; }
  std::string logs_dir() const { return path_ + "/logs"; }
  TargetDirs Target(const std::string& name) const;
  // Creates a target's directories, owned by the host ids the sandbox's
  // root maps to, so the sandboxed build can write there.
  base::Status CreateTarget(const std::string& name, uid_t uid, gid_t gid) const;

 private:
  std::string path_;
};

// Removes a tree without following symlinks, making directories writable
// first (overlayfs leaves a mode-000 dir in its work dir).
base::Status RemoveTree(const std::string& path);

}  // namespace nsbuild::builder
