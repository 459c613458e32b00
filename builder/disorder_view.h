// verify's `fileordering` variation: a build's source seen through
// disorderfs, a FUSE filesystem that returns every directory's entries in
// reverse order. It is mounted on the host, before the build and outside any
// sandbox (FUSE needs /dev/fuse, which sandboxes do not get), then becomes the
// lower layer of each sub-phase's overlay; the owner object unmounts it, on
// success, failure and interrupt alike.
//
// Reversal rather than disorderfs' shuffle: any directory of two or more
// entries then reads differently from the control, every time, so the
// one-factor rebuild sees the same difference the experiment saw.
#pragma once

#include <memory>
#include <string>

#include "base/result.h"

namespace nsbuild::builder {

class DisorderView {
 public:
  // Why it cannot be used here ("" if it can): disorderfs missing, no
  // /dev/fuse, or a caller who may not open it (an unprivileged user needs
  // read-write access to /dev/fuse and fusermount).
  static std::string Unavailable();

  // Mounts `source` at `mountpoint` (created if missing). A stale mount left
  // there by a killed run is detached first.
  static base::Result<std::unique_ptr<DisorderView>> Mount(const std::string& source,
                                                           const std::string& mountpoint,
                                                           const std::string& log_path);
  ~DisorderView();
  DisorderView(const DisorderView&) = delete;
  DisorderView& operator=(const DisorderView&) = delete;

  const std::string& path() const { return mountpoint_; }

  // Lazily detaches whatever is mounted at `mountpoint`; quiet if nothing is.
  static void Detach(const std::string& mountpoint);

 private:
  explicit DisorderView(std::string mountpoint) : mountpoint_(std::move(mountpoint)) {}
  std::string mountpoint_;
};

}  // namespace nsbuild::builder
