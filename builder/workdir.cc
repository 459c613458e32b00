#include "builder/workdir.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "base/dir_fd.h"

namespace nsbuild::builder {
namespace {

namespace fs = std::filesystem;

// What a run makes in the work dir; emptied at the start of the next.
const char* const kRunParts[] = {"source",    "targets", "logs",   "images.txt", "images.txt.tmp",
                                 "jobserver", "capture", "distcc", "launcher"};

std::shared_ptr<base::UniqueFd> Share(base::UniqueFd fd) {
  return std::make_shared<base::UniqueFd>(std::move(fd));
}

}  // namespace

std::string WorkDirAdvice() {
  return "choose a work dir where only root (or you) can write, e.g. --work-dir "
         "/var/tmp/nsbuild/NAME (a checkout another user owns cannot hold root's work dir)";
}

base::Result<WorkDir> WorkDir::Open(const std::string& path) {
  std::error_code ec;
  fs::path abs = fs::absolute(path, ec).lexically_normal();
  if (ec || abs == "/" || path.empty()) return base::PlainError("bad work dir: " + path);
  std::string shown = abs.string();
  while (shown.size() > 1 && shown.back() == '/') shown.pop_back();
  auto fd = base::OpenTrustedDir(shown, base::DefaultTrustCheck(), /*create=*/true);
  if (!fd.ok()) {
    return base::Wrap(fd.take_error(), "work dir " + shown + " refused");
  }
  WorkDir w;
  w.path_ = shown;
  w.fd_ = Share(std::move(*fd));
  return w;
}

base::Result<WorkDir> WorkDir::Prepare(const std::string& path) {
  NSB_ASSIGN_OR_RETURN(WorkDir w, Open(path));
  NSB_TRY(w.Reset());
  return w;
}

base::Status WorkDir::Reset() {
  for (const char* part : kRunParts) {
    if (auto st = base::RemoveTreeAt(*fd_, part); !st) return base::Wrap(st.take_error(), path_);
  }
  NSB_ASSIGN_OR_RETURN(base::UniqueFd source, base::MakeFreshDirAt(*fd_, "source", 0755));
  NSB_ASSIGN_OR_RETURN(base::UniqueFd targets, base::MakeFreshDirAt(*fd_, "targets", 0755));
  NSB_ASSIGN_OR_RETURN(base::UniqueFd logs, base::MakeFreshDirAt(*fd_, "logs", 0755));
  source_ = Share(std::move(source));
  targets_ = Share(std::move(targets));
  logs_ = Share(std::move(logs));
  return {};
}

TargetDirs WorkDir::Target(const std::string& name) const {
  std::string r = path_ + "/targets/" + name;
  return {r, r + "/upper", r + "/ovl-work", r + "/build", r + "/image", r + "/tmp", r + "/home"};
}

base::Status WorkDir::CreateTarget(const std::string& name, uid_t uid, gid_t gid) const {
  if (!targets_) return base::PlainError("work dir " + path_ + " not reset");
  // A fresh, root-owned directory per target, in targets/ which no sandbox
  // can write: its six subdirectories are the sandbox's, their names ours.
  NSB_ASSIGN_OR_RETURN(base::UniqueFd root, base::MakeFreshDirAt(*targets_, name, 0755));
  for (const char* sub : {"upper", "ovl-work", "build", "image", "tmp", "home"}) {
    if (::mkdirat(root.get(), sub, 0755) != 0)
      return base::ErrnoError("mkdir " + Target(name).root + "/" + sub);
    // Root (or a user mapping only itself) may hand the dir to the mapped id.
    if (::fchownat(root.get(), sub, uid, gid, AT_SYMLINK_NOFOLLOW) != 0) {
      return base::ErrnoError("chown " + Target(name).root + "/" + sub);
    }
  }
  return {};
}

base::Result<base::UniqueFd> WorkDir::FreshDir(const std::string& name, mode_t mode) const {
  auto fd = base::MakeFreshDirAt(*fd_, name, mode);
  if (!fd.ok()) return base::Wrap(fd.take_error(), path_);
  return fd;
}

base::Result<base::UniqueFd> WorkDir::OpenBeneath(const std::string& rel, int flags,
                                                  mode_t mode) const {
  auto fd = base::OpenBeneath(*fd_, rel, flags, mode);
  if (!fd.ok()) return base::Wrap(fd.take_error(), path_);
  return fd;
}

}  // namespace nsbuild::builder
