#include "sandbox/seccomp_cache.h"

#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <seccomp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <utility>
#include <vector>

#include "base/dir_fd.h"
#include "base/fs.h"

namespace nsbuild::sandbox {
namespace {

using base::ErrnoError;
using base::PlainError;
using base::Result;
using base::Status;
using base::UniqueFd;

constexpr const char* kMagic = "nsbuild-seccomp-cache 1";
constexpr size_t kMaxHeader = 128;

struct BuildIdSearch {
  uintptr_t address;
  std::string hex;
};

// The NT_GNU_BUILD_ID note of a loaded object, as hex ("" without one).
std::string BuildIdOf(const dl_phdr_info* info) {
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_NOTE) continue;
    auto* p = reinterpret_cast<const char*>(info->dlpi_addr + ph.p_vaddr);
    const char* end = p + ph.p_memsz;
    while (p + sizeof(ElfW(Nhdr)) <= end) {
      auto* n = reinterpret_cast<const ElfW(Nhdr)*>(p);
      const char* name = p + sizeof(ElfW(Nhdr));
      const char* desc = name + ((n->n_namesz + 3) & ~3u);
      if (desc + n->n_descsz > end) break;
      if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 && std::memcmp(name, "GNU", 4) == 0) {
        std::string hex;
        char b[3];
        for (unsigned k = 0; k < n->n_descsz; ++k) {
          std::snprintf(b, sizeof b, "%02x", static_cast<unsigned char>(desc[k]));
          hex += b;
        }
        return hex;
      }
      p = desc + ((n->n_descsz + 3) & ~3u);
    }
  }
  return "";
}

// Whether the object `info` describes has a loaded segment holding `address`.
bool Holds(const dl_phdr_info* info, uintptr_t address) {
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    uintptr_t start = info->dlpi_addr + ph.p_vaddr;
    if (ph.p_type == PT_LOAD && address >= start && address < start + ph.p_memsz) return true;
  }
  return false;
}

// Which libseccomp compiles: its version and the build id of the object its
// code is in (the shared library, or nsbuild itself when linked statically),
// so a distribution's patched rebuild of the same version is told apart.
// "" when there is no build id: then nothing is cached.
const std::string& LibseccompIdentity() {
  static const std::string id = [] {
    BuildIdSearch s{reinterpret_cast<uintptr_t>(&seccomp_export_bpf), ""};
    dl_iterate_phdr(
        [](dl_phdr_info* info, size_t, void* data) {
          auto* s = static_cast<BuildIdSearch*>(data);
          if (!Holds(info, s->address)) return 0;
          s->hex = BuildIdOf(info);
          return 1;
        },
        &s);
    if (s.hex.empty()) return std::string();
    const scmp_version* v = seccomp_version();
    return "libseccomp " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
           std::to_string(v->micro) + " build-id " + s.hex + "\n";
  }();
  return id;
}

// FNV-1a: only picks the file name; the whole key is compared on reading.
uint64_t Fnv1a(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

std::string Header(size_t key_bytes, size_t program_bytes) {
  return std::string(kMagic) + " key=" + std::to_string(key_bytes) +
         " program=" + std::to_string(program_bytes) + "\n";
}

// The program of an entry whose key is `key`; an error says why the entry
// is not used (missing, untrusted, another key, malformed).
Result<std::vector<sock_filter>> ReadEntry(int dir, const std::string& name,
                                           const std::string& key) {
  UniqueFd fd(::openat(dir, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (!fd) return ErrnoError(name);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return ErrnoError("fstat " + name);
  if (!S_ISREG(st.st_mode)) return PlainError(name + ": not a regular file");
  std::string problem = base::FileTrustProblem(st, name, base::DefaultTrustCheck().owners);
  if (!problem.empty()) return PlainError(problem);
  size_t max = kMaxHeader + key.size() + BPF_MAXINSNS * sizeof(sock_filter);
  NSB_ASSIGN_OR_RETURN(std::string data, base::ReadFdBounded(fd, name, max));
  size_t nl = data.find('\n');
  if (nl == std::string::npos) return PlainError(name + ": no header");
  size_t body = data.size() - (nl + 1);
  if (body < key.size()) return PlainError(name + ": shorter than its key");
  size_t program_bytes = body - key.size();
  // The header states both lengths, so a cut or extended file is refused.
  if (data.compare(0, nl + 1, Header(key.size(), program_bytes)) != 0 ||
      data.compare(nl + 1, key.size(), key) != 0) {
    return PlainError(name + ": another key or a malformed header");
  }
  if (program_bytes == 0 || program_bytes % sizeof(sock_filter) != 0) {
    return PlainError(name + ": program of odd size");
  }
  std::vector<sock_filter> prog(program_bytes / sizeof(sock_filter));
  std::memcpy(prog.data(), data.data() + nl + 1 + key.size(), program_bytes);
  return prog;
}

// Written under a name of this process's own and renamed into place, so a
// concurrent start never reads half an entry.
Status WriteEntry(int dir, const std::string& name, const std::string& key,
                  const std::vector<sock_filter>& prog) {
  size_t bytes = prog.size() * sizeof(sock_filter);
  std::string data = Header(key.size(), bytes) + key;
  data.append(reinterpret_cast<const char*>(prog.data()), bytes);
  std::string tmp = name + "." + std::to_string(::getpid()) + ".tmp";
  UniqueFd fd(
      ::openat(dir, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
  if (!fd) return ErrnoError("create " + tmp);
  Status written = base::WriteAll(fd, data);
  if (written.ok() && ::fchmod(fd.get(), 0644) != 0) written = ErrnoError("chmod " + tmp);
  if (written.ok() && ::renameat(dir, tmp.c_str(), dir, name.c_str()) != 0) {
    written = ErrnoError("rename " + tmp);
  }
  if (!written.ok()) ::unlinkat(dir, tmp.c_str(), 0);
  return written;
}

// Whether the entry `name` was compiled by a libseccomp other than
// `identity` (the start of every key): such an entry can never be hit again.
// Only its first bytes are read; one that cannot be read is left alone.
bool FromAnotherLibseccomp(int dir, const std::string& name, const std::string& identity) {
  UniqueFd fd(::openat(dir, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (!fd) return false;
  std::string head(kMaxHeader + identity.size(), '\0');
  ssize_t n = ::pread(fd.get(), head.data(), head.size(), 0);
  if (n <= 0) return false;
  head.resize(static_cast<size_t>(n));
  size_t nl = head.find('\n');
  return nl != std::string::npos && head.compare(nl + 1, identity.size(), identity) != 0;
}

// After a store (a miss: a new rule set or a new libseccomp), the cache is
// kept small: entries of another libseccomp go, so do temporaries a killed
// start left (older than an hour), and beyond kSeccompCacheMaxEntries the
// oldest written. Only root or the caller can write this directory (it was
// opened trusted) and unlinkat never follows a name, so nothing outside it
// is touched. `keep` is the entry just written.
void Prune(int dir, const std::string& keep) {
  const std::string& identity = LibseccompIdentity();
  std::vector<std::pair<timespec, std::string>> entries;
  std::vector<std::string> doomed;
  const time_t stale = ::time(nullptr) - 3600;
  for (std::string& name : base::ListNames(dir)) {
    struct stat st;
    bool entry = name.ends_with(".bpf"), tmp = name.ends_with(".tmp");
    if ((!entry && !tmp) || name == keep) continue;
    if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
      continue;
    if (tmp) {
      if (st.st_mtime < stale) doomed.push_back(name);
    } else if (FromAnotherLibseccomp(dir, name, identity)) {
      doomed.push_back(name);
    } else {
      entries.emplace_back(st.st_mtim, std::move(name));
    }
  }
  auto newer = [](const auto& a, const auto& b) {
    return a.first.tv_sec != b.first.tv_sec ? a.first.tv_sec > b.first.tv_sec
                                            : a.first.tv_nsec > b.first.tv_nsec;
  };
  std::sort(entries.begin(), entries.end(), newer);
  for (size_t i = kSeccompCacheMaxEntries - 1; i < entries.size(); ++i)
    doomed.push_back(entries[i].second);  // with `keep`, at most the maximum stay
  for (const auto& name : doomed) ::unlinkat(dir, name.c_str(), 0);
}

}  // namespace

std::string DefaultSeccompCacheDir() {
  if (const char* d = std::getenv("NSBUILD_CACHE_DIR"); d && *d == '/') {
    return std::string(d) + "/seccomp";
  }
  if (::geteuid() == 0) return "/var/cache/nsbuild/seccomp";
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x == '/') {
    return std::string(x) + "/nsbuild/seccomp";
  }
  if (const char* h = std::getenv("HOME"); h && *h == '/') {
    return std::string(h) + "/.cache/nsbuild/seccomp";
  }
  return "";
}

std::string FilterCacheKey(const FilterInput& in) {
  const std::string& lib = LibseccompIdentity();
  if (lib.empty()) return "";
  return lib + FilterInputText(in);
}

std::string FilterCacheName(const std::string& key) {
  char name[32];
  std::snprintf(name, sizeof name, "%016llx.bpf", static_cast<unsigned long long>(Fnv1a(key)));
  return name;
}

Result<std::vector<sock_filter>> CachedFilter(const FilterInput& in, const std::string& dir,
                                              CacheOutcome* outcome) {
  CacheOutcome ignored;
  CacheOutcome& out = outcome ? *outcome : ignored;
  out = CacheOutcome::kNoCache;
  std::string key = in.disabled || dir.empty() ? "" : FilterCacheKey(in);
  if (key.empty()) return CompileFilter(in);
  base::TrustCheck check = base::DefaultTrustCheck();
  check.check = true;  // a user's own cache is checked too
  auto opened = base::OpenTrustedDir(dir, check, /*create=*/true);
  if (!opened.ok()) return CompileFilter(in);
  std::string name = FilterCacheName(key);
  if (auto hit = ReadEntry(opened->get(), name, key); hit.ok()) {
    out = CacheOutcome::kHit;
    return hit;
  }
  NSB_ASSIGN_OR_RETURN(std::vector<sock_filter> prog, CompileFilter(in));
  bool stored = WriteEntry(opened->get(), name, key, prog).ok();
  if (stored) Prune(opened->get(), name);
  out = stored ? CacheOutcome::kCompiledAndStored : CacheOutcome::kCompiledNotStored;
  return prog;
}

}  // namespace nsbuild::sandbox
