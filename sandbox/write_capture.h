// Capture mode of the write watcher: a stray open that creates or writes a
// file succeeds into a private capture directory instead of failing, so the
// report shows the files a package would have put on the host (useful for
// packages that behave differently when a write fails). Still a violation,
// still reported; the host is never written.
//
// How: the watcher answers the notified open with a file descriptor of its
// own, created under the capture directory at the same path, installed in
// the caller by SECCOMP_IOCTL_NOTIF_ADDFD with SECCOMP_ADDFD_FLAG_SEND (the
// descriptor becomes the call's return value, atomically). Only where the
// file's directory exists in the sandbox's view: elsewhere the real call
// would have failed too. Every other call (mkdir, rename, unlink, chmod,
// link, symlink, ...) is still denied: a directory made only in the capture
// could not be entered or listed by the build, and faking success would let
// it go on believing in a state nobody can show.
//
// Why not the overlay upper layer one would first think of: the host's
// directories belong to ids that are not mapped in our user namespaces, so
// the kernel refuses the write's permission check and overlayfs's copy-up
// alike (idmapped lower layers would need a root-created idmapped mount).
//
// Limits: the captured file starts empty (an append to a host file shows
// only what was appended), and later reads of the path see the host, not
// the capture.
//
// The capture is held to the limits of the sandbox's own writable places
// (sandbox/capture_fs.h): while the sandbox runs, captured files live on a
// private tmpfs of the policy's tmpfs size, nosuid, nodev, noexec, reachable
// by no path. Finish() copies them, once the sandbox is gone, into the
// capture directory as plain files (no setid or exec bits), which must be
// new or empty: captures of two runs never mix. Every file is created from
// the capture root's fd, never through a symlink (openat2 with
// RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS).
#pragma once

#include <linux/seccomp.h>

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"

namespace nsbuild::sandbox {

// The capture's size when the policy leaves tmpfs sizes to the kernel.
inline constexpr uint64_t kDefaultCaptureBytes = uint64_t{1} << 30;

class WriteCapture {
 public:
  // `dir` receives the captured files after the run; it must not exist or
  // be empty. `size_bytes`: the most the captures may hold (0: the default).
  static base::Result<WriteCapture> Open(const std::string& dir, uint64_t size_bytes = 0);

  // Answers the notified call `call` on the resolved inside `path` from the
  // capture directory. `parent_exists`: the path's directory exists in the
  // sandbox's view (looked up with its own ids). False: not capturable (or
  // it failed); deny it.
  bool Handle(int notify_fd, const seccomp_notif& n, const std::string& call,
              const std::string& path, bool parent_exists);

  // Copies the captured files into dir(); call once no sandbox holds one
  // (after the run). Idempotent.
  base::Status Finish();

  const std::string& dir() const { return path_; }
  // Inside paths captured so far, in order.
  const std::vector<std::string>& captured() const { return captured_; }

 private:
  WriteCapture() = default;
  bool CaptureOpen(int notify_fd, const seccomp_notif& n, uint64_t flags, uint64_t mode,
                   const std::string& path);

  base::UniqueFd fs_;  // the private tmpfs; reset by Finish
  std::string path_;
  uint64_t size_ = 0;
  std::vector<std::string> captured_;
};

}  // namespace nsbuild::sandbox
