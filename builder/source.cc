#include "builder/source.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "base/dir_fd.h"
#include "base/fs.h"
#include "builder/sandbox_runner.h"
#include "builder/status_printer.h"
#include "sandbox/sandbox.h"

namespace nsbuild::builder {
namespace {

using base::UniqueFd;

constexpr int kMaxCopyDepth = 4096;

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
// as stdin (reopened from the source's descriptor), so neither a hostile
// archive nor the archive's own permissions matter to the host.
base::Status Unpack(const SourceRef& source, const WorkDir& work, const sandbox::Policy& policy) {
  UniqueFd in(
      ::open(base::ProcFdPath(source.fd->get()).c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (!in) return base::ErrnoError("open source " + source.shown);
  struct stat a, b;
  if (::fstat(in.get(), &a) != 0 || ::fstat(source.fd->get(), &b) != 0 || a.st_ino != b.st_ino ||
      a.st_dev != b.st_dev || !S_ISREG(a.st_mode)) {
    return base::PlainError("source " + source.shown + " changed while opened");
  }
  NSB_ASSIGN_OR_RETURN(std::string zflag, CompressionFlag(in.get(), source.shown));
  std::string log_path = work.logs_dir() + "/unpack.log";
  UniqueFd log(::openat(work.logs_fd(), "unpack.log",
                        O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644));
  if (!log) return base::ErrnoError("open " + log_path);
  sandbox::RunRequest req;
  req.argv = {"/usr/bin/tar",         "-x", "-f", "-", "-C", "/nsbuild/out", "--no-same-owner",
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
  if (::fchown(work.source_fd(), uid, gid) != 0)
    return base::ErrnoError("chown " + work.source_dir());
  NSB_ASSIGN_OR_RETURN(sandbox::ExitInfo exit, sandbox::Run(spec));
  if (exit.ExitStatus() != 0) {
    std::string why = exit.setup_failure ? exit.setup_failure->Message()
                                         : "tar exit status " + std::to_string(exit.ExitStatus());
    return base::PlainError("unpack " + source.shown + ": " + why + "\n" + LogTail(log_path, 10));
  }
  return {};
}

base::Status CopyBytes(int from, int to, const std::string& shown) {
  for (;;) {
    ssize_t n = ::copy_file_range(from, nullptr, to, nullptr, 1 << 30, 0);
    if (n == 0) return {};
    if (n > 0) continue;
    if (errno == EINTR) continue;
    if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP) {
      return base::ErrnoError("copy " + shown);
    }
    break;  // no copy_file_range between these two: plain reads
  }
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(from, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return base::ErrnoError("read " + shown);
    if (n == 0) return {};
    NSB_TRY(base::WriteAll(base::BorrowedFd(to), std::string_view(buf, static_cast<size_t>(n))));
  }
}

// Copies keep their originals' mtimes (make and autotools compare them),
// lose setuid/setgid/sticky, and belong to the sandbox's ids.
struct CopyIds {
  uid_t uid;
  gid_t gid;
};

base::Status Finish(int fd, const struct stat& st, const CopyIds& ids, const std::string& shown) {
  if (::fchown(fd, ids.uid, ids.gid) != 0) return base::ErrnoError("chown " + shown);
  if (::fchmod(fd, st.st_mode & 0777) != 0) return base::ErrnoError("chmod " + shown);
  timespec times[2] = {st.st_mtim, st.st_mtim};
  if (::futimens(fd, times) != 0) return base::ErrnoError("utimens " + shown);
  return {};
}

// A directory is copied on the host (it may hold files only its owner can
// read), by fd from the source's descriptor into WORK/source: symlinks as
// symlinks, never followed; fifos, sockets and devices are left out.
base::Status CopyDir(int from, int to, const std::string& rel, const CopyIds& ids, int depth) {
  if (depth > kMaxCopyDepth)
    return base::PlainError("source " + rel + ": deeper than " + std::to_string(kMaxCopyDepth) +
                            " levels");
  for (const auto& name : base::ListNames(from)) {
    std::string shown = rel.empty() ? name : rel + "/" + name;
    struct stat st;
    if (::fstatat(from, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
      return base::ErrnoError("stat source " + shown);
    if (S_ISDIR(st.st_mode)) {
      UniqueFd src(::openat(from, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!src) return base::ErrnoError("open source " + shown);
      if (::mkdirat(to, name.c_str(), 0700) != 0) return base::ErrnoError("mkdir " + shown);
      UniqueFd dst(::openat(to, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!dst) return base::ErrnoError("open " + shown);
      NSB_TRY(CopyDir(src.get(), dst.get(), shown, ids, depth + 1));
      struct stat now;
      if (::fstat(src.get(), &now) != 0) return base::ErrnoError("stat source " + shown);
      NSB_TRY(Finish(dst.get(), now, ids, shown));
    } else if (S_ISREG(st.st_mode)) {
      UniqueFd src(::openat(from, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
      struct stat now;
      if (!src || ::fstat(src.get(), &now) != 0) return base::ErrnoError("open source " + shown);
      if (!S_ISREG(now.st_mode))
        return base::PlainError("source " + shown + " changed while copied");
      UniqueFd dst(
          ::openat(to, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
      if (!dst) return base::ErrnoError("create " + shown);
      NSB_TRY(CopyBytes(src.get(), dst.get(), shown));
      NSB_TRY(Finish(dst.get(), now, ids, shown));
    } else if (S_ISLNK(st.st_mode)) {
      std::string target(static_cast<size_t>(st.st_size > 0 ? st.st_size : 4096) + 1, '\0');
      ssize_t n = ::readlinkat(from, name.c_str(), target.data(), target.size());
      if (n < 0) return base::ErrnoError("readlink source " + shown);
      target.resize(static_cast<size_t>(n));
      if (::symlinkat(target.c_str(), to, name.c_str()) != 0)
        return base::ErrnoError("symlink " + shown);
      if (::fchownat(to, name.c_str(), ids.uid, ids.gid, AT_SYMLINK_NOFOLLOW) != 0) {
        return base::ErrnoError("chown " + shown);
      }
      timespec times[2] = {st.st_mtim, st.st_mtim};
      if (::utimensat(to, name.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0)
        return base::ErrnoError("utimens " + shown);
    }
  }
  return {};
}

base::Status CopyTree(const SourceRef& source, const WorkDir& work, const sandbox::Policy& policy) {
  UniqueFd from(::openat(source.fd->get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!from) return base::ErrnoError("open source " + source.shown);
  NSB_ASSIGN_OR_RETURN(auto mapped, MappedHostIds(policy));
  CopyIds ids{mapped.first, mapped.second};
  NSB_TRY(CopyDir(from.get(), work.source_fd(), "", ids, 0));
  struct stat st;
  if (::fstat(from.get(), &st) != 0) return base::ErrnoError("stat source " + source.shown);
  if (::fchown(work.source_fd(), ids.uid, ids.gid) != 0) return base::ErrnoError("chown source");
  timespec times[2] = {st.st_mtim, st.st_mtim};
  if (::futimens(work.source_fd(), times) != 0)
    return base::ErrnoError("utimens " + work.source_dir());
  return {};
}

// A source with one top-level directory (the usual NAME-VERSION/) is
// entered, so $S is the project root either way.
std::string EnterLoneDir(const WorkDir& work, std::string* name) {
  std::vector<std::string> names = base::ListNames(work.source_fd());
  struct stat st;
  if (names.size() == 1 &&
      ::fstatat(work.source_fd(), names[0].c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
      S_ISDIR(st.st_mode)) {
    *name = names[0];
    return work.source_dir() + "/" + names[0];
  }
  name->clear();
  return work.source_dir();
}

}  // namespace

int64_t NewestMtime(int dir) {
  int64_t newest = 0;
  struct stat st;
  if (::fstat(dir, &st) == 0) newest = st.st_mtim.tv_sec;
  (void)base::WalkTreeAt(base::BorrowedFd(dir), [&](int, const std::string&, const struct stat& s) {
    newest = std::max<int64_t>(newest, s.st_mtim.tv_sec);
    return true;
  });
  return newest;
}

base::Result<SourceRef> OpenSourceBeneath(int dir_fd, const std::string& rel,
                                          const std::string& shown) {
  auto fd = base::OpenBeneath(base::BorrowedFd(dir_fd), rel, O_PATH);
  if (!fd.ok()) {
    return base::Wrap(fd.take_error(),
                      "source " + shown +
                          " (must lie beneath the recipe's directory, with no symlink on "
                          "the way; the operator can name another with --source)");
  }
  struct stat st;
  if (::fstat(fd->get(), &st) != 0) return base::ErrnoError("stat source " + shown);
  if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) {
    return base::PlainError("source " + shown + ": neither a directory nor a tarball");
  }
  return SourceRef{std::make_shared<UniqueFd>(std::move(*fd)), shown, S_ISDIR(st.st_mode)};
}

base::Result<SourceRef> ResolveSource(const Recipe& recipe, const std::string& operator_source) {
  if (!operator_source.empty()) {
    // The operator's own choice: any path, symlinks followed as usual.
    UniqueFd fd(::open(operator_source.c_str(), O_PATH | O_CLOEXEC));
    if (!fd) return base::ErrnoError("--source " + operator_source);
    struct stat st;
    if (::fstat(fd.get(), &st) != 0) return base::ErrnoError("--source " + operator_source);
    if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) {
      return base::PlainError("--source " + operator_source +
                              ": neither a directory nor a tarball");
    }
    return SourceRef{std::make_shared<UniqueFd>(std::move(fd)), operator_source,
                     S_ISDIR(st.st_mode)};
  }
  UniqueFd dir(::open(recipe.dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dir) return base::ErrnoError("recipe directory " + recipe.dir);
  return OpenSourceBeneath(dir.get(), recipe.source, recipe.dir + "/" + recipe.source);
}

base::Result<PreparedSource> PrepareSource(const SourceRef& source, const WorkDir& work,
                                           const sandbox::Policy& policy) {
  if (source.is_dir) {
    NSB_TRY(CopyTree(source, work, policy));
  } else {
    NSB_TRY(Unpack(source, work, policy));
  }
  PreparedSource out;
  std::string lone;
  out.root = EnterLoneDir(work, &lone);
  UniqueFd root;
  if (!lone.empty()) {
    root.reset(
        ::openat(work.source_fd(), lone.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  }
  out.newest_mtime = NewestMtime(root ? root.get() : work.source_fd());
  return out;
}

}  // namespace nsbuild::builder
