// nsbuild-exec: the one small program every wrapped executable's symlink
// points to (see wrappers.h). Installed as usr/lib/nsbuild-exec/nsbuild-exec;
// run as usr/bin/NAME, it picks which implementation's NAME to exec:
//   1. $NSBUILD_IMPL, else $EPYTHON (python-exec's variable);
//   2. the first installed one in ROOT/etc/nsbuild-exec.conf (one
//      implementation per line, '#' comments), the admin's preference;
//   3. the first installed one in usr/lib/nsbuild-exec/.order/NAME, the
//      build's order.
// An implementation is installed when usr/lib/nsbuild-exec/IMPL/NAME is an
// executable file. A variable naming one that is not installed is an error,
// never a silent fallback: the user asked for that one. Paths are found
// from /proc/self/exe, so a tree merged anywhere (a chroot, an image)
// works. Kept free of the project's libraries: it must start fast.
#include <dirent.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

namespace {

constexpr int kExitNotFound = 127;  // like a shell's "command not found"

std::string SelfDir() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "";
  std::string p(buf, static_cast<size_t>(n));
  return p.substr(0, p.rfind('/'));
}

bool Installed(const std::string& exec_dir, const std::string& impl, const std::string& name) {
  if (impl.empty() || impl.find('/') != std::string::npos || impl[0] == '.') return false;
  struct stat st;
  std::string p = exec_dir + "/" + impl + "/" + name;
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(p.c_str(), X_OK) == 0;
}

std::vector<std::string> ReadList(const std::string& path) {
  std::vector<std::string> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    line = line.substr(0, line.find('#'));
    size_t b = line.find_first_not_of(" \t"), e = line.find_last_not_of(" \t\r");
    if (b != std::string::npos) out.push_back(line.substr(b, e - b + 1));
  }
  return out;
}

std::string InstalledList(const std::string& exec_dir, const std::string& name) {
  std::string out;
  DIR* d = ::opendir(exec_dir.c_str());
  while (dirent* e = d ? ::readdir(d) : nullptr) {
    if (e->d_name[0] != '.' && Installed(exec_dir, e->d_name, name)) {
      out += (out.empty() ? "" : ", ") + std::string(e->d_name);
    }
  }
  if (d) ::closedir(d);
  return out.empty() ? "none" : out;
}

[[noreturn]] void Run(const std::string& exec_dir, const std::string& impl,
                      const std::string& name, char** argv) {
  std::string p = exec_dir + "/" + impl + "/" + name;
  ::execv(p.c_str(), argv);
  std::fprintf(stderr, "nsbuild-exec: %s: cannot execute %s: %s\n", name.c_str(), p.c_str(),
               std::strerror(errno));
  std::exit(126);
}

int Usage() {
  std::fprintf(stderr,
               "nsbuild-exec: run through a symlink named after a wrapped program, e.g.\n"
               "  /usr/bin/NAME -> ../lib/nsbuild-exec/nsbuild-exec\n"
               "It runs usr/lib/nsbuild-exec/IMPL/NAME, IMPL chosen from $NSBUILD_IMPL or\n"
               "$EPYTHON, then etc/nsbuild-exec.conf, then the build's order in\n"
               "usr/lib/nsbuild-exec/.order/NAME.\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 1 || !argv[0]) return Usage();
  std::string name = argv[0];
  name = name.substr(name.rfind('/') + 1);
  if (name == "nsbuild-exec" || name.empty()) return Usage();
  std::string exec_dir = SelfDir();
  if (exec_dir.empty()) {
    std::fprintf(stderr, "nsbuild-exec: %s: cannot find myself via /proc/self/exe\n", name.c_str());
    return kExitNotFound;
  }
  for (const char* var : {"NSBUILD_IMPL", "EPYTHON"}) {
    const char* v = std::getenv(var);
    if (!v || !*v) continue;
    if (Installed(exec_dir, v, name)) Run(exec_dir, v, name, argv);
    std::fprintf(stderr, "nsbuild-exec: %s: %s=%s, but %s/%s/%s is not installed (installed: %s)\n",
                 name.c_str(), var, v, exec_dir.c_str(), v, name.c_str(),
                 InstalledList(exec_dir, name).c_str());
    return kExitNotFound;
  }
  std::string root = exec_dir + "/../../..";
  for (const auto& list : {root + "/etc/nsbuild-exec.conf", exec_dir + "/.order/" + name}) {
    for (const auto& impl : ReadList(list)) {
      if (Installed(exec_dir, impl, name)) Run(exec_dir, impl, name, argv);
    }
  }
  std::fprintf(stderr,
               "nsbuild-exec: %s: no implementation of it is installed (looked in %s/IMPL/%s for "
               "the ones in etc/nsbuild-exec.conf and .order/%s; installed: %s)\n",
               name.c_str(), exec_dir.c_str(), name.c_str(), name.c_str(),
               InstalledList(exec_dir, name).c_str());
  return kExitNotFound;
}
