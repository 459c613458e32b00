// libFuzzer target: a synthetic image tree built from a small description,
// then scanned and checked exactly as the merger does. One entry per line:
//   d PATH MODE        a directory
//   f PATH MODE TEXT   a regular file
//   l PATH TARGET      a symlink
//   h PATH OTHER       a hard link to OTHER
// Paths are taken as given (with "..", "/", control bytes): creating them
// is best effort, under a fresh directory; the scanner must cope with
// whatever exists and never follow a link out.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <sstream>
#include <string>

#include "merge/checks.h"
#include "merge/image_scan.h"
#include "merge/merge_policy.h"

namespace {

bool Inside(const std::string& p) {
  return !p.empty() && p[0] != '/' && p.find("..") == std::string::npos;
}

void Build(const std::string& root, const std::string& desc) {
  std::istringstream in(desc);
  std::string line;
  int count = 0;
  while (std::getline(in, line) && ++count < 64) {
    std::istringstream f(line);
    std::string kind, path, arg, rest;
    f >> kind >> path >> arg;
    std::getline(f, rest);
    if (!Inside(path)) continue;  // the fuzzer never writes outside its dir
    std::string full = root + "/" + path;
    mode_t mode = static_cast<mode_t>(std::strtoul(arg.c_str(), nullptr, 8) & 0777);
    if (kind == "d") {
      mkdir(full.c_str(), mode | 0700);
    } else if (kind == "f") {
      int fd = open(full.c_str(), O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, mode | 0600);
      if (fd >= 0) {
        (void)!write(fd, rest.data(), rest.size());
        close(fd);
      }
    } else if (kind == "l") {
      symlink(arg.c_str(), full.c_str());
    } else if (kind == "h" && Inside(arg)) {
      link((root + "/" + arg).c_str(), full.c_str());
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  char tmpl[] = "/tmp/nsbuild-fuzz-image.XXXXXX";
  if (!mkdtemp(tmpl)) return 0;
  std::string root = tmpl;
  Build(root, std::string(reinterpret_cast<const char*>(data), size));
  auto img = nsbuild::merge::ScanImage(root, "fuzz", nsbuild::merge::ScanLimits{16});
  if (img) {
    std::vector<nsbuild::merge::Finding> rejections, notices;
    nsbuild::merge::CheckImage(*img, nsbuild::merge::MergePolicy{}, &rejections, &notices);
  }
  std::error_code ec;
  std::filesystem::remove_all(root, ec);
  return 0;
}
