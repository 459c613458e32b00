#include "builder/source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "base/fs.h"
#include "builder/sandbox_runner.h"
#include "builder/status.h"
#include "sandbox/sandbox.h"

namespace nsbuild::builder {
namespace {

namespace fs = std::filesystem;

// tar cannot detect compression on a non-seekable stdin, so we look at the
// magic bytes ourselves.
base::Result<std::string> CompressionFlag(int fd, const std::string& path) {
  unsigned char m[6] = {};
  ssize_t n = ::pread(fd, m, sizeof m, 0);
  if (n < 0) return base::ErrnoError("read " + path);
  if (n >= 2 && m[0] == 0x1f && m[1] == 0x8b) return std::string("--gzip");
  if (n >= 3 && m[0] == 'B' && m[1] == 'Z' && m[2] == 'h') return std::string("--bzip2");
  if (n >= 6 && m[0] == 0xfd && m[1] == '7' && m[2] == 'z' && m[3] == 'X' && m[4] == 'Z') {
    return std::string("--xz");
  }
  if (n >= 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd) {
    return std::string("--zstd");
  }
  return std::string();
}

// Unpacks in a sandbox: tar runs as the sandbox's root mapped to an
// unprivileged id, sees only the output dir writable, and gets the archive
// as stdin, so neither a hostile archive nor the archive's own permissions
// matter to the host.
base::Status Unpack(const std::string& tarball, const WorkDir& work, const sandbox::Policy& policy) {
  base::UniqueFd in(::open(tarball.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in) return base::ErrnoError("open source " + tarball);
  NSB_ASSIGN_OR_RETURN(std::string zflag, CompressionFlag(in.get(), tarball));
  std::string log_path = work.logs_dir() + "/unpack.log";
  base::UniqueFd log(::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!log) return base::ErrnoError("open " + log_path);
  sandbox::RunRequest req;
  req.argv = {"/usr/bin/tar", "-x", "-f", "-", "-C", "/nsbuild/out", "--no-same-owner",
              "--no-same-permissions"};
  if (!zflag.empty()) req.argv.push_back(zflag);
  sandbox::MountOp out;
  out.kind = sandbox::MountKind::kBind;
  out.source = work.source_dir();
  out.target = "/nsbuild/out";
  req.mounts.push_back(out);
  req.net = sandbox::NetMode::kNone;
  req.stdin_fd = in.get();
  req.stdout_fd = req.stderr_fd = log.get();
  NSB_ASSIGN_OR_RETURN(sandbox::SandboxSpec spec, sandbox::PlanSandbox(policy, req));
  auto [uid, gid] = MappedHostIds(spec);
  if (::chown(work.source_dir().c_str(), uid, gid) != 0) {
    return base::ErrnoError("chown " + work.source_dir());
  }
  NSB_ASSIGN_OR_RETURN(sandbox::ExitInfo exit, sandbox::Run(spec));
  if (exit.ExitStatus() != 0) {
    std::string why = exit.setup_failure ? exit.setup_failure->Message()
                                         : "tar exit status " + std::to_string(exit.ExitStatus());
    return base::PlainError("unpack " + tarball + ": " + why + "\n" + LogTail(log_path, 10));
  }
  return {};
}

// Copies keep their originals' mtimes: make and autotools compare them.
base::Status CopyMtime(const fs::path& from, const fs::path& to) {
  struct stat st;
  if (::lstat(from.c_str(), &st) != 0) return base::ErrnoError("stat " + from.string());
  timespec times[2] = {st.st_mtim, st.st_mtim};
  if (::utimensat(AT_FDCWD, to.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
    return base::ErrnoError("utimensat " + to.string());
  }
  return {};
}

// A directory is copied on the host (it may hold files only its owner can
// read), symlinks as symlinks, then handed to the sandbox's ids. chown
// clears setuid/setgid bits, so none survive into the build.
base::Status CopyTree(const std::string& from, const WorkDir& work, const sandbox::Policy& policy) {
  std::error_code ec;
  fs::copy(from, work.source_dir(),
           fs::copy_options::recursive | fs::copy_options::copy_symlinks |
               fs::copy_options::overwrite_existing,
           ec);
  if (ec) return base::Error{ec.value(), "copy source " + from};
  NSB_ASSIGN_OR_RETURN(auto ids, MappedHostIds(policy));
  auto [uid, gid] = ids;
  if (::lchown(work.source_dir().c_str(), uid, gid) != 0) return base::ErrnoError("chown source");
  for (fs::recursive_directory_iterator it(work.source_dir(), ec), end; !ec && it != end;
       it.increment(ec)) {
    if (::lchown(it->path().c_str(), uid, gid) != 0) {
      return base::ErrnoError("chown " + it->path().string());
    }
    NSB_TRY(CopyMtime(fs::path(from) / it->path().lexically_relative(work.source_dir()), it->path()));
  }
  if (ec) return base::Error{ec.value(), "walk " + work.source_dir()};
  return {};
}

// A source with one top-level directory (the usual NAME-VERSION/) is
// entered, so $S is the project root either way.
std::string EnterLoneDir(const std::string& dir) {
  std::error_code ec;
  std::string only;
  int count = 0;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    ++count;
    if (e.is_directory(ec) && !e.is_symlink(ec)) only = e.path().string();
  }
  return count == 1 && !only.empty() ? only : dir;
}

}  // namespace

int64_t NewestMtime(const std::string& root) {
  int64_t newest = 0;
  std::error_code ec;
  struct stat st;
  if (::lstat(root.c_str(), &st) == 0) newest = st.st_mtim.tv_sec;
  for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    if (::lstat(it->path().c_str(), &st) == 0) newest = std::max<int64_t>(newest, st.st_mtim.tv_sec);
  }
  return newest;
}

base::Result<PreparedSource> PrepareSource(const std::string& source, const WorkDir& work,
                                           const sandbox::Policy& policy) {
  struct stat st;
  if (::stat(source.c_str(), &st) != 0) return base::ErrnoError("source " + source);
  if (S_ISDIR(st.st_mode)) {
    if (::access(source.c_str(), R_OK | X_OK) != 0) return base::ErrnoError("source " + source);
    NSB_TRY(CopyTree(source, work, policy));
  } else if (S_ISREG(st.st_mode)) {
    NSB_TRY(Unpack(source, work, policy));
  } else {
    return base::PlainError("source " + source + ": neither a directory nor a tarball");
  }
  PreparedSource out;
  out.root = EnterLoneDir(work.source_dir());
  out.newest_mtime = NewestMtime(out.root);
  return out;
}

}  // namespace nsbuild::builder
