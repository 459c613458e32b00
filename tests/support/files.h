// File helpers every test suite shares (unit, integration, security): a
// scratch directory that cleans up after itself, whole-file reads and
// writes for fixtures, and whether the tests run as root (each suite runs
// both ways, tests/run.sh).
#pragma once

#include <sys/types.h>

#include <string>

namespace nsbuild::testing {

// A fresh directory under $TMPDIR (else /tmp), mode 0755 so that a
// sandbox's unprivileged ids can traverse it like a user's project dir.
// The destructor removes it, after making every directory in it
// u+rwx again (overlayfs leaves mode-000 work dirs, tests make some).
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

// The whole file, "" when it cannot be read.
std::string Read(const std::string& path);
// Creates the parent directories, replaces the file, then sets its mode.
void Write(const std::string& path, const std::string& data, mode_t mode = 0644);

bool IsRoot();

}  // namespace nsbuild::testing
