#include "builder/workdir.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

namespace nsbuild::builder {
namespace {

namespace fs = std::filesystem;

base::Status MakeDir(const std::string& path, mode_t mode) {
  if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST) return base::ErrnoError("mkdir " + path);
  return {};
}

// Directories first get u+rwx so their entries can be listed and unlinked;
// symlinks are removed as links, never followed.
void MakeTreeRemovable(const fs::path& dir) {
  ::chmod(dir.c_str(), 0700);
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_directory(ec) && !it->is_symlink(ec)) MakeTreeRemovable(it->path());
  }
}

}  // namespace

base::Status RemoveTree(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(path, ec))) return {};
  if (fs::is_directory(fs::symlink_status(path, ec))) MakeTreeRemovable(path);
  fs::remove_all(path, ec);
  if (ec) return base::Error{ec.value(), "remove " + path};
  return {};
}

base::Result<WorkDir> WorkDir::Prepare(const std::string& path) {
  std::error_code ec;
  fs::path abs = fs::absolute(path, ec).lexically_normal();
  if (ec || abs == "/") return base::PlainError("bad work dir: " + path);
  WorkDir w;
  w.path_ = abs.string();
  for (const char* sub : {"source", "targets", "logs", "images.txt"}) {
    NSB_TRY(RemoveTree(w.path_ + "/" + sub));
  }
  fs::create_directories(abs, ec);
  if (ec) return base::Error{ec.value(), "create work dir " + w.path_};
  NSB_TRY(MakeDir(w.source_dir(), 0755));
  NSB_TRY(MakeDir(w.path_ + "/targets", 0755));
  NSB_TRY(MakeDir(w.logs_dir(), 0755));
  return w;
}

TargetDirs WorkDir::Target(const std::string& name) const {
  std::string r = path_ + "/targets/" + name;
  return {r, r + "/upper", r + "/ovl-work", r + "/build", r + "/image", r + "/tmp", r + "/home"};
}

base::Status WorkDir::CreateTarget(const std::string& name, uid_t uid, gid_t gid) const {
  TargetDirs d = Target(name);
  NSB_TRY(MakeDir(d.root, 0755));
  for (const std::string* p : {&d.upper, &d.ovl_work, &d.build, &d.image, &d.tmp, &d.home}) {
    NSB_TRY(MakeDir(*p, 0755));
    // Root (or a user mapping only itself) may hand the dir to the mapped id.
    if (::lchown(p->c_str(), uid, gid) != 0) return base::ErrnoError("chown " + *p);
  }
  return {};
}

}  // namespace nsbuild::builder
