#include "sandbox/write_watch.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>

#include "base/dir_fd.h"
#include "base/escape.h"
#include "base/fs.h"
#include "base/unique_fd.h"
#include "sandbox/watched_calls.h"
#include "sandbox/write_capture.h"

namespace nsbuild::sandbox {
namespace {

using base::UniqueFd;

const std::map<int, const WatchedCall*>& CallsByNr() {
  static const std::map<int, const WatchedCall*> by_nr = [] {
    std::map<int, const WatchedCall*> m;
    for (const auto& c : WatchedCalls()) m[c.x86_64_nr] = &c;
    return m;
  }();
  return by_nr;
}

// A path argument as the kernel would take it: NUL-terminated within
// PATH_MAX bytes (terminator included), else ENAMETOOLONG — never a
// truncated path that names something else.
struct PathString {
  std::optional<std::string> text;  // none: NULL or unreadable
  bool too_long = false;
};

PathString ReadString(pid_t pid, uint64_t addr) {
  if (addr == 0) return {};
  UniqueFd mem(open(("/proc/" + std::to_string(pid) + "/mem").c_str(), O_RDONLY | O_CLOEXEC));
  if (!mem) return {};
  std::string out;
  char buf[256];
  while (out.size() < PATH_MAX) {
    size_t want = std::min(sizeof buf, static_cast<size_t>(PATH_MAX) - out.size());
    ssize_t n = pread(mem.get(), buf, want, static_cast<off_t>(addr + out.size()));
    if (n <= 0)
      return out.empty() ? PathString{} : PathString{out};  // unmapped: the kernel says EFAULT
    size_t len = strnlen(buf, static_cast<size_t>(n));
    out.append(buf, len);
    if (len < static_cast<size_t>(n)) return {out};
  }
  return {std::nullopt, true};
}

std::optional<std::string> ReadSocketPath(pid_t pid, uint64_t addr, uint64_t len) {
  if (addr == 0 || len <= sizeof(sa_family_t) || len > sizeof(sockaddr_un)) return std::nullopt;
  UniqueFd mem(open(("/proc/" + std::to_string(pid) + "/mem").c_str(), O_RDONLY | O_CLOEXEC));
  sockaddr_un sun = {};
  if (!mem || pread(mem.get(), &sun, len, static_cast<off_t>(addr)) != static_cast<ssize_t>(len)) {
    return std::nullopt;
  }
  if (sun.sun_family != AF_UNIX || sun.sun_path[0] == '\0') return std::nullopt;  // abstract
  return std::string(sun.sun_path, strnlen(sun.sun_path, sizeof sun.sun_path));
}

std::string Readlink(const std::string& path) {
  char buf[PATH_MAX];
  ssize_t n = readlink(path.c_str(), buf, sizeof buf - 1);
  return n < 0 ? std::string() : std::string(buf, static_cast<size_t>(n));
}

std::string Join(const std::string& base, const std::string& rel) {
  if (!rel.empty() && rel[0] == '/') return rel;
  return base + (base.ends_with("/") ? "" : "/") + rel;
}

// The path as the process sees it: relative to its cwd or dirfd, with the
// parent directory's symlinks resolved inside its own root, so a write
// through a link that points out of an allowed root is named by where it
// really goes.
// `lexical`: also the path before symlinks are resolved (ours, as root),
// for questions that must be asked with the process's own ids.
std::string Resolve(pid_t pid, int64_t dirfd, const std::string& path, std::string* lexical_out) {
  std::string proc = "/proc/" + std::to_string(pid);
  std::string base = "/";
  if (path.empty() || path[0] != '/') {
    base = static_cast<int>(dirfd) == AT_FDCWD ? Readlink(proc + "/cwd")
                                               : Readlink(proc + "/fd/" + std::to_string(dirfd));
  }
  std::string lexical = NormalisePath(Join(base, path));
  *lexical_out = lexical;
  if (lexical == "/") return lexical;
  size_t slash = lexical.rfind('/');
  std::string parent = slash == 0 ? "/" : lexical.substr(0, slash);
  UniqueFd root(open((proc + "/root").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) return lexical;
  open_how how = {};
  how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  UniqueFd dir(
      static_cast<int>(syscall(SYS_openat2, root.get(), parent.c_str(), &how, sizeof how)));
  if (!dir) return lexical;  // e.g. mkdir -p of a new tree: nothing to resolve yet
  std::string real_parent = Readlink(base::ProcFdPath(dir.get()));
  if (real_parent.empty() || real_parent[0] != '/') return lexical;
  return NormalisePath(Join(real_parent, lexical.substr(slash + 1)));
}

std::string OpenFlagsText(uint64_t flags) {
  std::string s = (flags & O_ACCMODE) == O_RDWR     ? "O_RDWR"
                  : (flags & O_ACCMODE) == O_WRONLY ? "O_WRONLY"
                                                    : "O_RDONLY";
  if (flags & O_CREAT) s += "|O_CREAT";
  if (flags & O_TRUNC) s += "|O_TRUNC";
  if (flags & O_APPEND) s += "|O_APPEND";
  if ((flags & __O_TMPFILE) == __O_TMPFILE) s += "|O_TMPFILE";
  return s;
}

// The start of the command line: a process can make its argv megabytes long.
std::string CommandLine(pid_t pid) {
  bool cut = false;
  auto text =
      base::ReadBounded(base::BorrowedFd(AT_FDCWD), "/proc/" + std::to_string(pid) + "/cmdline",
                        kMaxViolationCommandBytes, &cut);
  if (!text) return "?";
  std::string s = *text;
  while (!s.empty() && s.back() == '\0') s.pop_back();
  std::replace(s.begin(), s.end(), '\0', ' ');
  return cut ? Clip(s + "....", kMaxViolationCommandBytes) : s;
}

struct Target {
  std::string call;  // the syscall's name
  std::string op;
  std::vector<std::string> paths;
  std::vector<std::string> lexical;  // the same, symlinks not resolved
  bool creates = false;              // fails with EEXIST when the path is already there
  bool name_too_long = false;        // a path argument the kernel refuses
};

// This thread's filesystem ids become the process's (fsuid, fsgid and, when
// we are root, its supplementary groups) for the object's life, so a lookup
// succeeds exactly where the process's own would: root's would pass 0700
// directories. Raw syscalls, because they change the calling thread only
// (glibc's wrappers change every thread of nsbuild).
class AsProcessIds {
 public:
  explicit AsProcessIds(pid_t pid) {
    auto status = base::ReadBounded(base::BorrowedFd(AT_FDCWD),
                                    "/proc/" + std::to_string(pid) + "/status", 16384);
    if (!status) return;
    long fsuid = Field(*status, "Uid:", 3), fsgid = Field(*status, "Gid:", 3);
    if (fsuid < 0 || fsgid < 0) return;
    if (geteuid() == 0) {
      int n = getgroups(0, nullptr);
      saved_groups_.resize(n > 0 ? static_cast<size_t>(n) : 0);
      if (n > 0 && getgroups(n, saved_groups_.data()) != n) return;
      std::vector<gid_t> theirs = Groups(*status);
      if (syscall(SYS_setgroups, theirs.size(), theirs.data()) != 0) return;
      groups_changed_ = true;
    }
    saved_fsgid_ = static_cast<gid_t>(syscall(SYS_setfsgid, static_cast<gid_t>(fsgid)));
    saved_fsuid_ = static_cast<uid_t>(syscall(SYS_setfsuid, static_cast<uid_t>(fsuid)));
    // setfs*id answer the previous id whether or not they worked: ask again.
    ok_ = syscall(SYS_setfsuid, -1) == fsuid && syscall(SYS_setfsgid, -1) == fsgid;
    ids_changed_ = true;
  }
  ~AsProcessIds() {
    if (ids_changed_) {
      syscall(SYS_setfsuid, saved_fsuid_);
      syscall(SYS_setfsgid, saved_fsgid_);
    }
    if (groups_changed_) syscall(SYS_setgroups, saved_groups_.size(), saved_groups_.data());
  }
  AsProcessIds(const AsProcessIds&) = delete;
  AsProcessIds& operator=(const AsProcessIds&) = delete;
  bool ok() const { return ok_; }

 private:
  // The index-th number after `key` at a line start ("Uid:\treal\teff\tsaved\tfs").
  static long Field(const std::string& status, const std::string& key, int index) {
    size_t at = status.find("\n" + key);
    if (at == std::string::npos) return -1;
    const char* p = status.c_str() + at + 1 + key.size();
    long v = -1;
    for (int i = 0; i <= index; ++i) {
      char* end = nullptr;
      v = std::strtol(p, &end, 10);
      if (end == p) return -1;
      p = end;
    }
    return v;
  }
  static std::vector<gid_t> Groups(const std::string& status) {
    std::vector<gid_t> out;
    size_t at = status.find("\nGroups:");
    if (at == std::string::npos) return out;
    const char* p = status.c_str() + at + 8;
    for (;;) {
      char* end = nullptr;
      long g = std::strtol(p, &end, 10);
      if (end == p || *p == '\n') break;
      out.push_back(static_cast<gid_t>(g));
      p = end;
    }
    return out;
  }

  bool ok_ = false, ids_changed_ = false, groups_changed_ = false;
  uid_t saved_fsuid_ = 0;
  gid_t saved_fsgid_ = 0;
  std::vector<gid_t> saved_groups_;
};

bool LookUp(int root, const std::string& path, bool check_search) {
  open_how how = {};
  how.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  UniqueFd fd(static_cast<int>(syscall(SYS_openat2, root, path.c_str(), &how, sizeof how)));
  if (!fd || !check_search) return fd.valid();
  // Seeing a directory is not entering it: a name in it is looked up only
  // with search permission (AT_EACCESS: the fs ids in force).
  return syscall(SYS_faccessat2, fd.get(), "", X_OK, AT_EACCESS | AT_EMPTY_PATH) == 0;
}

// as_process: look with the process's ids (AsProcessIds), not ours, and
// answer true for a directory only if the process may search it.
bool ExistsInside(pid_t pid, const std::string& path, bool as_process = false) {
  UniqueFd root(
      open(("/proc/" + std::to_string(pid) + "/root").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) return false;
  if (!as_process) return LookUp(root.get(), path, false);
  AsProcessIds ids(pid);
  return ids.ok() && LookUp(root.get(), path, true);
}

std::string ParentOf(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}

bool Creates(const std::string& name) {
  for (const char* c :
       {"mkdir", "mkdirat", "mknod", "mknodat", "symlink", "symlinkat", "link", "linkat"}) {
    if (name == c) return true;
  }
  return false;
}

std::optional<Target> Decode(const seccomp_notif& n) {
  auto it = CallsByNr().find(n.data.nr);
  if (it == CallsByNr().end()) return std::nullopt;
  const WatchedCall& c = *it->second;
  Target t{c.name, c.name, {}, {}, Creates(c.name)};
  if (c.flags_arg >= 0) t.op += "(" + OpenFlagsText(n.data.args[c.flags_arg]) + ")";
  pid_t pid = static_cast<pid_t>(n.pid);
  if (c.sockaddr) {
    auto p = ReadSocketPath(pid, n.data.args[1], n.data.args[2]);
    if (!p) return std::nullopt;  // not a filesystem socket: nothing to judge
    t.lexical.emplace_back();
    t.paths.push_back(Resolve(pid, AT_FDCWD, *p, &t.lexical.back()));
    return t;
  }
  for (const PathArg& a : {c.first, c.second}) {
    if (a.path_arg < 0) continue;
    int64_t dirfd = a.dirfd_arg < 0
                        ? AT_FDCWD
                        : static_cast<int64_t>(static_cast<int>(n.data.args[a.dirfd_arg]));
    auto read = ReadString(pid, n.data.args[a.path_arg]);
    if (read.too_long) {
      t.name_too_long = true;
      return t;
    }
    auto& p = read.text;
    if (!p) {
      // utimensat(fd, NULL, ...) and friends act on the fd itself.
      if (dirfd == AT_FDCWD) continue;
      p = std::string();
    }
    t.lexical.emplace_back();
    t.paths.push_back(Resolve(pid, dirfd, *p, &t.lexical.back()));
  }
  return t;
}

bool Respond(int fd, uint64_t id, bool allow, int error = EACCES) {
  seccomp_notif_resp resp = {};
  resp.id = id;
  if (allow) {
    resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;  // reporting only; see the header
  } else {
    resp.error = -error;
  }
  return ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &resp) == 0 || errno == ENOENT;
}

}  // namespace

std::string NormalisePath(const std::string& path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    std::string comp = path.substr(start, end - start);
    if (comp == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!comp.empty() && comp != ".") {
      parts.push_back(comp);
    }
    start = end + 1;
  }
  std::string out;
  for (const auto& p : parts) out += "/" + p;
  return out.empty() ? "/" : out;
}

WriteWatcher::WriteWatcher(std::vector<std::string> allowed) {
  for (auto& a : allowed) allowed_.push_back(NormalisePath(a));
  seccomp_notif_sizes sizes = {};
  syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes);
  notif_size_ = std::max<size_t>(sizes.seccomp_notif, sizeof(seccomp_notif));
}

bool WriteWatcher::IsAllowed(const std::string& path) const {
  for (const auto& a : allowed_) {
    if (path == a || (path.starts_with(a) && (a == "/" || path[a.size()] == '/'))) return true;
  }
  return false;
}

bool WriteWatcher::HandleOne(int notify_fd) {
  std::vector<char> buf(notif_size_, 0);
  auto* n = reinterpret_cast<seccomp_notif*>(buf.data());
  if (ioctl(notify_fd, SECCOMP_IOCTL_NOTIF_RECV, n) != 0) {
    return errno == EINTR || errno == ENOENT;  // ENOENT: the caller died meanwhile
  }
  ++notifications_;
  auto target = Decode(*n);
  // The memory we read belongs to this call only if the id is still valid.
  uint64_t id = n->id;
  if (ioctl(notify_fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) != 0) return true;
  // The kernel refuses such a path before touching anything; so do we.
  if (target && target->name_too_long) return Respond(notify_fd, n->id, false, ENAMETOOLONG);
  bool allow = true;
  if (target) {
    for (const auto& p : target->paths) allow = allow && IsAllowed(p);
    // `mkdir -p /usr/lib` meets existing directories: the kernel answers
    // EEXIST and nothing is written, so that is no violation.
    if (!allow && target->creates && target->paths.size() == 1 &&
        ExistsInside(static_cast<pid_t>(n->pid), target->paths[0])) {
      allow = true;
    }
  }
  if (!allow) {
    WriteViolation* kept = Record(target->op, target->paths, static_cast<pid_t>(n->pid));
    // Whether the directory exists is asked with the process's own ids, of
    // the path as it wrote it (its symlinks then resolved with those ids
    // too): a capture must not tell it about a place it could not look into.
    if (capture_ && target->paths.size() == 1 &&
        capture_->Handle(notify_fd, *n, target->call, target->paths[0],
                         ExistsInside(static_cast<pid_t>(n->pid), ParentOf(target->lexical[0]),
                                      /*as_process=*/true))) {
      if (kept) kept->captured = true;
      return true;
    }
  }
  return Respond(notify_fd, n->id, allow);
}

WriteViolation* WriteWatcher::Record(const std::string& op, const std::vector<std::string>& paths,
                                     pid_t pid) {
  if (violations_.size() >= kMaxViolationsKept) {
    ++not_kept_;
    return nullptr;
  }
  std::string shown;
  for (const auto& p : paths) shown += (shown.empty() ? "" : " -> ") + p;
  violations_.push_back({op, Clip(shown, kMaxViolationPathBytes), pid, CommandLine(pid)});
  return &violations_.back();
}

std::vector<std::string> WritableRoots(const SandboxSpec& spec) {
  std::vector<std::string> roots = {"/dev/null", "/dev/zero",  "/dev/full",        "/dev/tty",
                                    "/dev/pts",  "/dev/ptmx",  "/dev/stdout",      "/dev/stderr",
                                    "/dev/fd",   "/proc/self", "/proc/thread-self"};
  // Mounts made read-only after setup (like /dev) are not writable places.
  std::vector<std::string> read_only;
  for (const auto& m : spec.mounts) {
    if (m.kind == MountKind::kRemountRo) read_only.push_back(m.target);
  }
  for (const auto& m : spec.mounts) {
    bool writable =
        m.kind == MountKind::kBind || m.kind == MountKind::kTmpfs || m.kind == MountKind::kOverlay;
    if (!writable || m.allow_devices) continue;
    if (std::find(read_only.begin(), read_only.end(), m.target) != read_only.end()) continue;
    roots.push_back(m.target);
  }
  return roots;
}

std::string FormatViolations(const std::vector<WriteViolation>& v, const std::string& heading,
                             uint64_t not_kept) {
  if (v.empty() && not_kept == 0) return "";
  std::string out =
      "--------------------------- ACCESS VIOLATION SUMMARY ---------------------------\n";
  out += heading + "\n";
  for (const auto& x : v) {
    out += "  " + x.op + std::string(x.op.size() < 24 ? 24 - x.op.size() : 1, ' ') +
           base::EscapeLine(x.path) + (x.captured ? "  (captured)" : "") + "\n";
    out += "      by pid " + std::to_string(x.pid) + ": " + base::EscapeLine(x.command) + "\n";
  }
  if (not_kept > 0) out += "  ... " + std::to_string(not_kept) + " more not kept\n";
  out += "--------------------------------------------------------------------------------\n";
  return out;
}

std::string Clip(std::string text, size_t max) {
  if (text.size() <= max) return text;
  text.resize(max > 3 ? max - 3 : 0);
  return text + "...";
}

}  // namespace nsbuild::sandbox
