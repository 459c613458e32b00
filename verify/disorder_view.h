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
#include "base/unique_fd.h"

namespace nsbuild::verify {

class DisorderView {
 public:
  // Why it cannot be used here ("" if it can): disorderfs missing, no
  // /dev/fuse, or a caller who may not open it (an unprivileged user needs
  // read-write access to /dev/fuse and fusermount).
  static std::string Unavailable();

  // Mounts `source` on a directory `name` that it makes afresh in the work
  // dir `dir_fd` (whose path is `dir_path`; nothing may be there: call
  // DetachStale and remove it first). After the mount it checks through an
  // fd that a new mount of disorderfs sits exactly there, and keeps that fd:
  // the destructor unmounts that mount and no other. disorderfs' output goes
  // to `log_fd` (-1: discarded).
  static base::Result<std::unique_ptr<DisorderView>> Mount(const std::string& source, int dir_fd,
                                                           const std::string& dir_path,
                                                           const std::string& name, int log_fd);
  ~DisorderView();
  DisorderView(const DisorderView&) = delete;
  DisorderView& operator=(const DisorderView&) = delete;

  const std::string& path() const { return mountpoint_; }

  // A view a killed run left at `name` in `dir_fd`: lazily detached when a
  // FUSE mount sits on that very directory (opened with O_NOFOLLOW: never
  // through a symlink, never anything above or elsewhere); quiet when
  // nothing is mounted there.
  static void DetachStale(int dir_fd, const std::string& dir_path, const std::string& name);

 private:
  DisorderView(std::string mountpoint, base::UniqueFd parent, std::string name, base::UniqueFd root)
      : mountpoint_(std::move(mountpoint)),
        parent_(std::move(parent)),
        name_(std::move(name)),
        root_(std::move(root)) {}
  std::string mountpoint_;
  base::UniqueFd parent_;  // the work dir
  std::string name_;       // the mountpoint's name in it
  base::UniqueFd root_;    // O_PATH on the mounted view's root
};

}  // namespace nsbuild::verify
