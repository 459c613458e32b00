// The work dir of one build: the unpacked source, each target's private
// directories (overlay upper and work, BUILD_DIR, image D, T, HOME), logs.
// A build starts by emptying it, so a run after a crash or Ctrl-C starts
// clean; it is left in place afterwards for logs and images.
//
//   WORK/source/            the unpacked source (lower layer of every overlay)
//   WORK/targets/NAME/{upper,ovl-work,build,image,tmp,home}
//   WORK/logs/NAME-PHASE.log
//
// Trust (tests/security/THREAT_MODEL.md): the work dir is opened once, as a
// directory fd, walking from "/"; run as root, it and every directory above
// it must be owned by root (or the caller) and not writable by others, with
// the sticky-/tmp exception of base/dir_fd.h. Everything later goes through
// that fd: removal walks by fd, directories are made with mkdirat and handed
// to the sandbox's ids with fchownat(AT_SYMLINK_NOFOLLOW), and nsbuild's own
// parts (logs, jobserver, capture, images.txt) are created fresh every run
// in directories no sandbox can write. The targets' six directories are the
// sandbox's: nsbuild never opens anything inside them by path.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "base/result.h"
#include "base/unique_fd.h"

namespace nsbuild::builder {

struct TargetDirs {
  std::string root, upper, ovl_work, build, image, tmp, home;
};

class WorkDir {
 public:
  // Opens (creating if missing) `path` as the work dir, with the checks
  // above. A failure is bad input (exit 2); its message names the directory
  // and why, and says how to choose another work dir.
  static base::Result<WorkDir> Open(const std::string& path);
  // Empties what the last run left (source, targets, logs, images.txt,
  // jobserver, capture, distcc) by fd, then creates source/, targets/ and
  // logs/ afresh.
  base::Status Reset();
  // Open, then Reset.
  static base::Result<WorkDir> Prepare(const std::string& path);

  const std::string& path() const { return path_; }
  int fd() const { return fd_->get(); }
  std::string source_dir() const { return path_ + "/source"; }
  std::string logs_dir() const { return path_ + "/logs"; }
  int source_fd() const { return source_ ? source_->get() : -1; }
  int logs_fd() const { return logs_ ? logs_->get() : -1; }
  TargetDirs Target(const std::string& name) const;
  // Creates a target's directories, owned by the host ids the sandbox's
  // root maps to, so the sandboxed build can write there.
  base::Status CreateTarget(const std::string& name, uid_t uid, gid_t gid) const;
  // A directory of nsbuild's own right in the work dir, removed and made
  // afresh (mode `mode`, owned by the caller).
  base::Result<base::UniqueFd> FreshDir(const std::string& name, mode_t mode) const;
  // Opens `rel` (relative, beneath the work dir, no symlink on the way).
  base::Result<base::UniqueFd> OpenBeneath(const std::string& rel, int flags,
                                           mode_t mode = 0) const;

 private:
  std::string path_;
  std::shared_ptr<base::UniqueFd> fd_, source_, logs_, targets_;
};

// How the operator picks another work dir, for refusals.
std::string WorkDirAdvice();

}  // namespace nsbuild::builder
