#include "sandbox/write_capture.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>

#include "base/fs.h"
#include "sandbox/capture_fs.h"

namespace nsbuild::sandbox {
namespace {

using base::UniqueFd;

// openat2 beneath `dir`, never through a symlink or a magic link, never
// onto another mount: what root creates in a capture stays in it.
int OpenBeneath(int dir, const std::string& name, uint64_t flags, uint64_t mode = 0) {
  open_how how = {};
  how.flags = flags | O_CLOEXEC;
  how.mode = mode;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
  return static_cast<int>(syscall(SYS_openat2, dir, name.c_str(), &how, sizeof how));
}

// The components of an absolute inside path; none if one is empty, "." or
// ".." (the watcher's paths are normalised, so that is never a real name).
std::vector<std::string> Components(const std::string& path) {
  std::vector<std::string> parts;
  for (const auto& c : std::filesystem::path(path).relative_path()) {
    std::string s = c.string();
    if (s.empty() || s == "." || s == "..") return {};
    parts.push_back(s);
  }
  return parts;
}

// Opens (creating as needed) the directory that will hold `path`'s last
// component, below `root`. Returns the fd and the leaf name, or an invalid fd.
std::pair<UniqueFd, std::string> OpenParent(int root, const std::string& path) {
  std::vector<std::string> parts = Components(path);
  if (parts.empty()) return {UniqueFd(), ""};
  UniqueFd dir(::fcntl(root, F_DUPFD_CLOEXEC, 3));
  for (size_t i = 0; i + 1 < parts.size() && dir; ++i) {
    if (::mkdirat(dir.get(), parts[i].c_str(), 0700) != 0 && errno != EEXIST)
      return {UniqueFd(), ""};
    dir.reset(OpenBeneath(dir.get(), parts[i], O_PATH | O_DIRECTORY));
  }
  return {std::move(dir), parts.back()};
}

// Whether `dir` may receive this run's captures: absent, or an empty
// directory (never a symlink).
base::Status CheckFresh(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return {};
    return base::ErrnoError("open capture dir " + dir);
  }
  DIR* d = ::fdopendir(fd.release());
  if (!d) return base::ErrnoError("read capture dir " + dir);
  bool empty = true;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") empty = false;
  }
  ::closedir(d);
  if (!empty)
    return base::PlainError("capture dir " + dir +
                            " is not empty (captures of two runs never mix)");
  return {};
}

// Copies [from, to) of in to out.
base::Status CopyRange(int in, int out, off_t from, off_t to, const std::string& name) {
  char buf[65536];
  while (from < to) {
    size_t want = static_cast<size_t>(std::min<off_t>(to - from, static_cast<off_t>(sizeof buf)));
    ssize_t n = ::pread(in, buf, want, from);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return base::ErrnoError("read " + name);
    if (n == 0) return {};
    std::string_view chunk(buf, static_cast<size_t>(n));
    while (!chunk.empty()) {
      ssize_t w = ::pwrite(out, chunk.data(), chunk.size(), from);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return base::ErrnoError("write " + name);
      chunk.remove_prefix(static_cast<size_t>(w));
      from += w;
    }
  }
  return {};
}

// Copies a captured file's data segments only, so a sparse file (it costs
// nothing on the tmpfs) stays sparse; `budget`, the bytes still allowed,
// bounds what is written however the file was made.
base::Status CopyFile(int from_dir, int to_dir, const std::string& name, uint64_t& budget) {
  NSB_ASSIGN_OR_RETURN(UniqueFd in, base::OpenUntrusted(base::BorrowedFd(from_dir), name));
  struct stat st;
  if (::fstat(in.get(), &st) != 0) return base::ErrnoError("fstat " + name);
  // A plain file: readable, writable by its owner, nothing to run, no setid.
  UniqueFd out(OpenBeneath(to_dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW,
                           (st.st_mode & 0666) | 0600));
  if (!out) return base::ErrnoError("create " + name);
  off_t pos = 0;
  while (pos < st.st_size) {
    off_t data = ::lseek(in.get(), pos, SEEK_DATA);
    if (data < 0) break;  // ENXIO: only a hole is left
    off_t hole = ::lseek(in.get(), data, SEEK_HOLE);
    if (hole < 0) hole = st.st_size;
    if (static_cast<uint64_t>(hole - data) > budget) {
      errno = EFBIG;
      return base::ErrnoError("copy " + name + ": the captures hold more than the capture's size");
    }
    budget -= static_cast<uint64_t>(hole - data);
    NSB_TRY(CopyRange(in.get(), out.get(), data, hole, name));
    pos = hole;
  }
  if (::ftruncate(out.get(), st.st_size) != 0) return base::ErrnoError("truncate " + name);
  return {};
}

// Copies the tree below from_dir (the tmpfs: only what we created there)
// into to_dir: directories and regular files, nothing else.
base::Status CopyTree(int from_dir, int to_dir, int depth, uint64_t& budget) {
  if (depth > 4096) return base::PlainError("capture tree too deep");
  UniqueFd list(OpenBeneath(from_dir, ".", O_RDONLY | O_DIRECTORY));
  if (!list) return base::ErrnoError("open capture dir");
  DIR* d = ::fdopendir(list.release());
  if (!d) return base::ErrnoError("read capture dir");
  base::Status result;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    struct stat st;
    if (::fstatat(from_dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      if (::mkdirat(to_dir, name.c_str(), 0755) != 0 && errno != EEXIST) {
        result = base::ErrnoError("mkdir " + name);
        break;
      }
      UniqueFd from(OpenBeneath(from_dir, name, O_PATH | O_DIRECTORY));
      UniqueFd to(OpenBeneath(to_dir, name, O_PATH | O_DIRECTORY));
      if (!from || !to) {
        result = base::ErrnoError("open " + name);
        break;
      }
      if (auto s = CopyTree(from.get(), to.get(), depth + 1, budget); !s) {
        result = s;
        break;
      }
    } else if (S_ISREG(st.st_mode)) {
      if (auto s = CopyFile(from_dir, to_dir, name, budget); !s) {
        result = s;
        break;
      }
    }
  }
  ::closedir(d);
  return result;
}

}  // namespace

base::Result<WriteCapture> WriteCapture::Open(const std::string& dir, uint64_t size_bytes) {
  NSB_TRY(CheckFresh(dir));
  WriteCapture c;
  NSB_ASSIGN_OR_RETURN(c.fs_, MakeCaptureFs(size_bytes ? size_bytes : kDefaultCaptureBytes));
  c.path_ = dir;
  c.size_ = size_bytes ? size_bytes : kDefaultCaptureBytes;
  return c;
}

bool WriteCapture::Handle(int notify_fd, const seccomp_notif& n, const std::string& call,
                          const std::string& path, bool parent_exists) {
  if (!parent_exists || !fs_) return false;
  const auto& a = n.data.args;
  if (call == "open") return CaptureOpen(notify_fd, n, a[1], a[2], path);
  if (call == "openat") return CaptureOpen(notify_fd, n, a[2], a[3], path);
  if (call == "creat") return CaptureOpen(notify_fd, n, O_WRONLY | O_CREAT | O_TRUNC, a[1], path);
  return false;
}

bool WriteCapture::CaptureOpen(int notify_fd, const seccomp_notif& n, uint64_t flags, uint64_t mode,
                               const std::string& path) {
  if ((flags & __O_TMPFILE) == __O_TMPFILE || (flags & O_DIRECTORY)) return false;
  auto [parent, leaf] = OpenParent(fs_.get(), path);
  if (!parent) return false;
  // The caller's own access mode and truncation; always created here (the
  // host file, if any, stays where it is). Never setuid, never a device.
  uint64_t ours = (flags & (O_ACCMODE | O_APPEND | O_TRUNC)) | O_CREAT | O_NOFOLLOW | O_NONBLOCK;
  UniqueFd fd(OpenBeneath(parent.get(), leaf, ours, mode & 0666));
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

base::Status WriteCapture::Finish() {
  if (!fs_) return {};
  UniqueFd fs = std::move(fs_);  // whatever happens, the tmpfs goes with it
  if (captured_.empty()) return {};
  std::error_code ec;
  std::filesystem::create_directories(path_, ec);
  if (ec) return base::Error{ec.value(), "create capture dir " + path_};
  // The run took a while: the directory must still be fresh, and ours (not
  // one another user made meanwhile where we would have made it).
  NSB_TRY(CheckFresh(path_));
  UniqueFd to(::open(path_.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!to) return base::ErrnoError("open capture dir " + path_);
  struct stat st;
  if (::fstat(to.get(), &st) != 0) return base::ErrnoError("fstat capture dir " + path_);
  if (st.st_uid != ::geteuid() || (st.st_mode & S_IWOTH) != 0) {
    return base::PlainError("capture dir " + path_ + " is not ours alone (owner " +
                            std::to_string(st.st_uid) + ", mode " +
                            std::to_string(st.st_mode & 07777) + "); the captures are not copied");
  }
  uint64_t budget = size_;
  if (auto s = CopyTree(fs.get(), to.get(), 0, budget); !s)
    return base::Wrap(s.take_error(), "copy captures to " + path_);
  return {};
}

}  // namespace nsbuild::sandbox
