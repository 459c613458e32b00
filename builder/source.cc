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
#include "base/sha256.h"
#include "builder/sandbox_runner.h"
#include "builder/status_printer.h"
#include "sandbox/sandbox.h"

namespace nsbuild::builder {
namespace {

using base::UniqueFd;

constexpr int kMaxCopyDepth = 4096;

base::Status CopyBytes(int from, int to, const std::string& shown);

// What unpacks an archive, from its first bytes (tar cannot detect
// compression on a non-seekable stdin, and a zip needs bsdtar).
struct ArchiveFormat {
  std::vector<std::string> argv;  // the unpacker, writing to /nsbuild/out
  std::string tool;               // for messages
};

base::Result<ArchiveFormat> DetectArchive(int fd, const std::string& path) {
  unsigned char m[512] = {};
  ssize_t n = ::pread(fd, m, sizeof m, 0);
  if (n < 0) return base::ErrnoError("read " + path);
  auto starts = [&](std::initializer_list<unsigned char> magic) {
    return n >= static_cast<ssize_t>(magic.size()) && std::equal(magic.begin(), magic.end(), m);
  };
  ArchiveFormat f{{"/usr/bin/tar", "-x", "-f", "-", "-C", "/nsbuild/out", "--no-same-owner",
                   "--no-same-permissions"},
                  "tar"};
  if (starts({0x1f, 0x8b})) return f.argv.push_back("--gzip"), f;
  if (starts({'B', 'Z', 'h'})) return f.argv.push_back("--bzip2"), f;
  if (starts({0xfd, '7', 'z', 'X', 'Z', 0})) return f.argv.push_back("--xz"), f;
  if (starts({0x28, 0xb5, 0x2f, 0xfd})) return f.argv.push_back("--zstd"), f;
  if (n >= 262 && std::memcmp(m + 257, "ustar", 5) == 0) return f;
  if (starts({'P', 'K', 3, 4}) || starts({'P', 'K', 5, 6})) {
    // bsdtar's defaults refuse absolute names, '..' and extraction through
    // symlinks; nothing of the archive's owners, modes' high bits, ACLs,
    // xattrs or file flags is kept.
    if (::access("/usr/bin/bsdtar", X_OK) != 0)
      return base::PlainError("source " + path +
                              " is a zip archive: unpacking it needs bsdtar (apt-get install "
                              "libarchive-tools)");
    return ArchiveFormat{
        {"/usr/bin/bsdtar", "-x", "-f", "-", "-C", "/nsbuild/out", "--no-same-owner",
         "--no-same-permissions", "--no-acls", "--no-xattrs", "--no-fflags"},
        "bsdtar"};
  }
  return base::PlainError("source " + path +
                          ": unsupported archive (not a directory, a tar archive, plain or "
                          "compressed with gzip, bzip2, xz or zstd, or a zip file)");
}

// With a sha256, the archive is copied into an unnamed file of ours and
// hashed there: what is unpacked is exactly what was checked, whatever
// happens to the recipe's directory meanwhile.
base::Result<UniqueFd> CheckedArchive(UniqueFd in, const SourceRef& source, const WorkDir& work) {
  if (source.expected_sha256.empty()) return in;
  UniqueFd copy(::openat(work.fd(), ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
  if (!copy) return base::ErrnoError("create a private copy of the source in " + work.path());
  NSB_TRY(CopyBytes(in.get(), copy.get(), source.shown));
  if (::lseek(copy.get(), 0, SEEK_SET) != 0) return base::ErrnoError("seek the source's copy");
  NSB_ASSIGN_OR_RETURN(std::string got, base::Sha256Fd(copy.get()));
  if (got != source.expected_sha256) {
    return base::PlainError("source " + source.shown + ": sha256 mismatch: the recipe says " +
                            source.expected_sha256 + ", the file has " + got);
  }
  if (::lseek(copy.get(), 0, SEEK_SET) != 0) return base::ErrnoError("seek the source's copy");
  return copy;
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
  NSB_ASSIGN_OR_RETURN(in, CheckedArchive(std::move(in), source, work));
  NSB_ASSIGN_OR_RETURN(ArchiveFormat format, DetectArchive(in.get(), source.shown));
  std::string log_path = work.logs_dir() + "/unpack.log";
  UniqueFd log(::openat(work.logs_fd(), "unpack.log",
                        O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644));
  if (!log) return base::ErrnoError("open " + log_path);
  sandbox::RunRequest req;
  req.argv = format.argv;
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
    std::string why = exit.setup_failure
                          ? exit.setup_failure->Message()
                          : format.tool + " exit status " + std::to_string(exit.ExitStatus());
    std::string tail = LogTail(log_path, 10);
    // A compressed file that holds no tar archive: say so, not tar's status.
    if (tail.find("does not look like a tar archive") != std::string::npos)
      why = "unsupported archive (compressed, but not a tar archive inside)";
    return base::PlainError("unpack " + source.shown + ": " + why + "\n" + tail);
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
  NSB_ASSIGN_OR_RETURN(
      SourceRef ref, OpenSourceBeneath(dir.get(), recipe.source, recipe.dir + "/" + recipe.source));
  ref.expected_sha256 = recipe.source_sha256;
  return ref;
}

base::Result<PreparedSource> PrepareSource(const SourceRef& source, const WorkDir& work,
                                           const sandbox::Policy& policy) {
  if (source.is_dir) {
    if (!source.expected_sha256.empty()) {
      return base::PlainError("source " + source.shown +
                              " is a directory: the recipe's sha256 can only check an archive");
    }
    NSB_TRY(CopyTree(source, work, policy));
  } else {
    NSB_TRY(Unpack(source, work, policy));
    // tar reads a compressed file shorter than one tar block as an empty archive.
    if (base::ListNames(work.source_fd()).empty())
      return base::PlainError("source " + source.shown +
                              ": unsupported archive (it holds no files)");
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
