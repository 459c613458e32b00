// Small file helpers shared by every module: whole-file reads and writes, and
// an atomic replace for files other tools read while we write them.
#pragma once

#include <string>

#include "base/result.h"
#include "base/unique_fd.h"

namespace nsbuild::base {

Result<std::string> ReadFile(const std::string& path);
Result<std::string> ReadFileAt(BorrowedFd dir, const std::string& name);
// Writes all of data, retrying short writes and EINTR.
Status WriteAll(BorrowedFd fd, std::string_view data);
// Writes to path.tmp, fsyncs, renames over path.
Status WriteFileAtomic(const std::string& path, std::string_view data, int mode = 0644);
Result<Pipe> MakePipe(int flags = 0);

}  // namespace nsbuild::base
