#include "verify/find_program.h"

#include <unistd.h>

namespace nsbuild::verify {

std::string FindProgram(const char* name) {
  for (const char* dir : {"/usr/bin/", "/bin/", "/usr/local/bin/", "/usr/sbin/", "/sbin/"}) {
    std::string path = std::string(dir) + name;
    if (::access(path.c_str(), X_OK) == 0) return path;
  }
  return "";
}

}  // namespace nsbuild::verify
