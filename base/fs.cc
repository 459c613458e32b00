#include "base/fs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
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
  NSB_ASSIGN_OR_RETURN(UniqueFd fd, OpenUntrusted(dir, name));
  return ReadAll(fd.get(), name);
}

Result<UniqueFd> OpenUntrusted(BorrowedFd dir, const std::string& name) {
  UniqueFd fd(::openat(dir.get(), name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (!fd) return ErrnoError("open " + name);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return ErrnoError("fstat " + name);
  if (!S_ISREG(st.st_mode)) {
    errno = EINVAL;
    return ErrnoError("open " + name + ": not a regular file");
  }
  return fd;
}

Result<std::string> ReadBounded(BorrowedFd dir, const std::string& name, size_t max,
                                bool* truncated) {
  NSB_ASSIGN_OR_RETURN(UniqueFd fd, OpenUntrusted(dir, name));
  std::string out;
  char buf[16384];
  // One byte beyond the bound tells a file of exactly `max` bytes from a longer one.
  while (out.size() <= max) {
    size_t want = std::min(sizeof buf, max + 1 - out.size());
    ssize_t n = ::read(fd.get(), buf, want);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError("read " + name);
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  if (truncated) *truncated = out.size() > max;
  if (out.size() > max) out.resize(max);
  return out;
}

Result<std::string> ReadTail(BorrowedFd dir, const std::string& name, size_t max, bool* truncated) {
  NSB_ASSIGN_OR_RETURN(UniqueFd fd, OpenUntrusted(dir, name));
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return ErrnoError("fstat " + name);
  uint64_t size = static_cast<uint64_t>(st.st_size);
  uint64_t start = size > max ? size - max : 0;
  std::string out(static_cast<size_t>(size - start), '\0');
  size_t got = 0;
  // The file may shrink meanwhile (a sandbox still writing it): keep what was read.
  while (got < out.size()) {
    ssize_t n =
        ::pread(fd.get(), out.data() + got, out.size() - got, static_cast<off_t>(start + got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError("read " + name);
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  out.resize(got);
  if (truncated) *truncated = start > 0;
  return out;
}

Status ForEachLine(BorrowedFd dir, const std::string& name, size_t max_line, uint64_t max_total,
                   const std::function<void(std::string_view)>& line) {
  NSB_ASSIGN_OR_RETURN(UniqueFd fd, OpenUntrusted(dir, name));
  std::string current;
  bool cut = false;  // the current line passed max_line: skip to its end
  char buf[16384];
  uint64_t total = 0;
  while (total < max_total) {
    ssize_t n = ::read(fd.get(), buf,
                       static_cast<size_t>(std::min<uint64_t>(sizeof buf, max_total - total)));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError("read " + name);
    if (n == 0) break;
    total += static_cast<uint64_t>(n);
    std::string_view chunk(buf, static_cast<size_t>(n));
    for (size_t nl; (nl = chunk.find('\n')) != std::string_view::npos;
         chunk.remove_prefix(nl + 1)) {
      if (!cut) current.append(chunk.substr(0, std::min(nl, max_line - current.size())));
      line(current);
      current.clear();
      cut = false;
    }
    if (!cut) {
      current.append(chunk.substr(0, std::min(chunk.size(), max_line - current.size())));
      cut = current.size() == max_line && !chunk.empty();
    }
  }
  if (!current.empty()) line(current);
  return {};
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
