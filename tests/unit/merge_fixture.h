// Helpers for the merger's tests: scratch trees, crafted files, snapshots
// of a directory tree that never follow symlinks.
#pragma once

#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "tests/support/files.h"

namespace nsbuild::merge::testing {

namespace fs = std::filesystem;

using nsbuild::testing::IsRoot;
using nsbuild::testing::Read;
using nsbuild::testing::TempDir;
using nsbuild::testing::Write;

// path → "type mode content-or-target" for every entry under root.
inline std::map<std::string, std::string> Snapshot(const std::string& root) {
  std::map<std::string, std::string> out;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    std::string rel = fs::relative(it->path(), root).string();
    struct stat st;
    ::lstat(it->path().c_str(), &st);
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", st.st_mode & 07777);
    if (S_ISLNK(st.st_mode)) {
      out[rel] = "symlink " + fs::read_symlink(it->path()).string();
    } else if (S_ISDIR(st.st_mode)) {
      out[rel] = std::string("dir ") + mode;
    } else {
      out[rel] = std::string("file ") + mode + " " + Read(it->path().string());
    }
  }
  return out;
}

}  // namespace nsbuild::merge::testing
