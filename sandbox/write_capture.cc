#include "sandbox/write_capture.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

namespace nsbuild::sandbox {
namespace {

using base::UniqueFd;

// Opens (creating as needed) the directory that will hold `path`'s last
// component, below `root`, never following a symlink: the capture dir holds
// only what we made, but a path component could still be a name like "..".
// Returns the fd and the leaf name, or an invalid fd.
std::pair<UniqueFd, std::string> OpenParent(int root, const std::string& path) {
  std::filesystem::path p(path);
  std::vector<std::string> parts;
  for (const auto& c : p.relative_path()) {
    std::string s = c.string();
    if (s.empty() || s == "." || s == "..") return {UniqueFd(), ""};
    parts.push_back(s);
  }
  if (parts.empty()) return {UniqueFd(), ""};
  UniqueFd dir(::fcntl(root, F_DUPFD_CLOEXEC, 3));
  for (size_t i = 0; i + 1 < parts.size() && dir; ++i) {
    if (::mkdirat(dir.get(), parts[i].c_str(), 0755) != 0 && errno != EEXIST) return {UniqueFd(), ""};
    dir.reset(::openat(dir.get(), parts[i].c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  }
  return {std::move(dir), parts.back()};
}

}  // namespace

base::Result<WriteCapture> WriteCapture::Open(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return base::Error{ec.value(), "create capture dir " + dir};
  WriteCapture c;
  c.dir_.reset(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!c.dir_) return base::ErrnoError("open capture dir " + dir);
  c.path_ = dir;
  return c;
}

bool WriteCapture::Handle(int notify_fd, const seccomp_notif& n, const std::string& call,
                          const std::string& path, bool parent_exists) {
  if (!parent_exists) return false;
  const auto& a = n.data.args;
  if (call == "open") return CaptureOpen(notify_fd, n, a[1], a[2], path);
  if (call == "openat") return CaptureOpen(notify_fd, n, a[2], a[3], path);
  if (call == "creat") return CaptureOpen(notify_fd, n, O_WRONLY | O_CREAT | O_TRUNC, a[1], path);
  return false;
}

bool WriteCapture::CaptureOpen(int notify_fd, const seccomp_notif& n, uint64_t flags, uint64_t mode,
                               const std::string& path) {
  if ((flags & __O_TMPFILE) == __O_TMPFILE || (flags & O_DIRECTORY)) return false;
  auto [parent, leaf] = OpenParent(dir_.get(), path);
  if (!parent) return false;
  // The caller's own access mode and truncation; always created here (the
  // host file, if any, stays where it is). Never setuid, never a device.
  int ours = static_cast<int>(flags & (O_ACCMODE | O_APPEND | O_TRUNC)) | O_CREAT | O_NOFOLLOW |
             O_CLOEXEC | O_NONBLOCK;
  UniqueFd fd(::openat(parent.get(), leaf.c_str(), ours, static_cast<mode_t>(mode & 0777)));
  if (!fd) return false;
  // The descriptor the caller gets behaves like the file it asked for.
  ::fcntl(fd.get(), F_SETFL, static_cast<int>(flags & (O_APPEND | O_NONBLOCK)));
  seccomp_notif_addfd add = {};
  add.id = n.id;
  add.flags = SECCOMP_ADDFD_FLAG_SEND;
  add.srcfd = static_cast<uint32_t>(fd.get());
  add.newfd_flags = static_cast<uint32_t>(flags & O_CLOEXEC);
  if (::ioctl(notify_fd, SECCOMP_IOCTL_NOTIF_ADDFD, &add) < 0 && errno != ENOENT) return false;
  captured_.push_back(path);
  return true;
}

}  // namespace nsbuild::sandbox
