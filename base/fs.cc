#include "base/fs.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>

namespace nsbuild::base {
namespace {

Result<std::string> ReadAll(int fd, const std::string& what) {
  std::string out;
  char buf[16384];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError("read " + what);
    if (n == 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

}  // namespace

Result<std::string> ReadFile(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return ErrnoError("open " + path);
  return ReadAll(fd.get(), path);
}

Result<std::string> ReadFileAt(BorrowedFd dir, const std::string& name) {
  UniqueFd fd(::openat(dir.get(), name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return ErrnoError("open " + name);
  return ReadAll(fd.get(), name);
}

Status WriteAll(BorrowedFd fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd.get(), data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError("write");
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

Status WriteFileAtomic(const std::string& path, std::string_view data, int mode) {
  std::string tmp = path + ".tmp";
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
  if (!fd) return ErrnoError("create " + tmp);
  if (auto s = WriteAll(fd, data); !s) return Wrap(s.take_error(), tmp);
  if (::fsync(fd.get()) != 0) return ErrnoError("fsync " + tmp);
  fd.reset();
  if (::rename(tmp.c_str(), path.c_str()) != 0) return ErrnoError("rename " + tmp + " to " + path);
  return {};
}

Result<Pipe> MakePipe(int flags) {
  int fds[2];
  if (::pipe2(fds, flags | O_CLOEXEC) != 0) return ErrnoError("pipe2");
  return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

}  // namespace nsbuild::base
