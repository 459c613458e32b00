// Small file helpers shared by every module: whole-file reads and writes, an
// atomic replace for files other tools read while we write them, and bounded
// reads of files someone else could have written.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "base/unique_fd.h"

namespace nsbuild::base {

Result<std::string> ReadFile(const std::string& path);
// Refuses a symlink as the last component and anything but a regular file
// (a fifo would block, a device could be anything).
Result<std::string> ReadFileAt(BorrowedFd dir, const std::string& name);

// Files a sandbox (or another user) could have written: opened relative to
// `dir` (AT_FDCWD for a path; only the last component is then checked, so
// the directories above must be ours) with O_NOFOLLOW | O_NONBLOCK, and
// refused unless fstat says regular file. A fifo therefore cannot hang us
// and a symlink cannot make us read a host file.
Result<UniqueFd> OpenUntrusted(BorrowedFd dir, const std::string& name);
// At most `max` bytes from the start; *truncated says whether there was more.
// Also for /proc files, whose size fstat does not know.
Result<std::string> ReadBounded(BorrowedFd dir, const std::string& name, size_t max,
                                bool* truncated = nullptr);
// The last `max` bytes, read from the end (pread): a 1 GB log costs what
// its tail costs. *truncated says whether the file was longer.
Result<std::string> ReadTail(BorrowedFd dir, const std::string& name, size_t max,
                             bool* truncated = nullptr);
// Calls `line` for each line (without its newline) of an untrusted file,
// reading it in chunks: memory stays bounded by `max_line` (longer lines are
// cut there), and no more than `max_total` bytes are read.
Status ForEachLine(BorrowedFd dir, const std::string& name, size_t max_line, uint64_t max_total,
                   const std::function<void(std::string_view)>& line);
// Writes all of data, retrying short writes and EINTR.
Status WriteAll(BorrowedFd fd, std::string_view data);
// Writes to path.tmp, fsyncs, renames over path.
Status WriteFileAtomic(const std::string& path, std::string_view data, int mode = 0644);
Result<Pipe> MakePipe(int flags = 0);

}  // namespace nsbuild::base
