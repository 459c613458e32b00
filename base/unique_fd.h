// Owning and borrowing file descriptors. Every fd the project opens is owned by
// a UniqueFd from the syscall that returns it, so no path leaks one.
#pragma once

#include <unistd.h>

#include <cerrno>
#include <utility>

namespace nsbuild::base {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) reset(o.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  explicit operator bool() const { return valid(); }

  // Hands the fd to a caller that takes ownership; the result must be used.
  [[nodiscard]] int release() { return std::exchange(fd_, -1); }

  // Closes the held fd; close(2) must not clobber the errno a caller reports.
  void reset(int fd = -1) {
    if (fd_ >= 0) {
      int saved = errno;
      ::close(fd_);
      errno = saved;
    }
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// A non-owning view, for parameters: says "I use it, I do not close it".
class BorrowedFd {
 public:
  BorrowedFd(const UniqueFd& fd) : fd_(fd.get()) {}  // NOLINT: implicit on purpose
  explicit BorrowedFd(int fd) : fd_(fd) {}
  int get() const { return fd_; }

 private:
  int fd_;
};

struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

}  // namespace nsbuild::base
