#include "tests/support/files.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace nsbuild::testing {

namespace fs = std::filesystem;

TempDir::TempDir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/nsbuild-test.XXXXXX";
  char* p = ::mkdtemp(tmpl.data());
  path_ = p ? p : "";
  if (p) ::chmod(p, 0755);
}

TempDir::~TempDir() {
  if (path_.empty()) return;
  std::error_code ec;
  // u+rwx on each directory before the walk descends into it.
  for (auto it = fs::recursive_directory_iterator(path_, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    struct stat st;
    if (::lstat(it->path().c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      ::chmod(it->path().c_str(), (st.st_mode & 07777) | 0700);
    }
  }
  fs::remove_all(path_, ec);
}

std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void Write(const std::string& path, const std::string& data, mode_t mode) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
  ::chmod(path.c_str(), mode);
}

bool IsRoot() { return ::geteuid() == 0; }

}  // namespace nsbuild::testing
