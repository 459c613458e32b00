#include "builder/launcher_dir.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/dir_fd.h"
#include "base/escape.h"
#include "base/fs.h"
#include "base/install_dirs.h"
#include "builder/jobserver.h"
#include "builder/workdir.h"
#include "launcher/cc_launcher.h"

#ifndef NSBUILD_CC_REL
#define NSBUILD_CC_REL "../libexec/nsbuild/nsbuild-cc"
#endif

namespace nsbuild::builder {
namespace {

constexpr const char* kBinary = "nsbuild-cc";
constexpr size_t kMaxBinary = 64 << 20;

base::Status CopyBinary(const std::string& from, int dir) {
  base::UniqueFd in(::open(from.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in) return base::ErrnoError("open " + from);
  NSB_ASSIGN_OR_RETURN(std::string bytes, base::ReadFdBounded(in, from, kMaxBinary));
  base::UniqueFd out(
      ::openat(dir, kBinary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0755));
  if (!out) return base::ErrnoError(std::string("create launcher/") + kBinary);
  NSB_TRY(base::WriteAll(out, bytes));
  if (::fchmod(out.get(), 0755) != 0) return base::ErrnoError("chmod launcher");
  return {};
}

}  // namespace

std::string FindLauncherBinary() {
  std::string p = base::BesideExecutable(NSBUILD_CC_REL);
  return !p.empty() && ::access(p.c_str(), X_OK) == 0 ? p : "";
}

base::Result<std::string> MakeLauncherDir(const WorkDir& work, const std::string& binary) {
  NSB_ASSIGN_OR_RETURN(base::UniqueFd dir, work.FreshDir("launcher", 0755));
  NSB_TRY(CopyBinary(binary, dir.get()));
  for (const std::string& name : launcher::CompilerNames()) {
    if (::symlinkat(kBinary, dir.get(), name.c_str()) != 0)
      return base::ErrnoError("symlink launcher/" + name);
  }
  return work.path() + "/launcher";
}

// The launcher only where its slots come from a fifo (build.cc, OpenSession).
std::string LauncherDirFor(const JobServer& jobs, const WorkDir& work) {
  std::string bin = FindLauncherBinary();
  if (!jobs.fifo_leases() || bin.empty()) return "";
  auto dir = MakeLauncherDir(work, bin);
  if (!dir.ok()) spdlog::warn("no compiler launcher: {}", base::EscapeLine(dir.error().Message()));
  return dir.ok() ? *dir : "";
}

}  // namespace nsbuild::builder
