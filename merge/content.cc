#include "merge/content.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>

#include "merge/elf_qa.h"
#include "merge/fd_walk.h"

namespace nsbuild::merge {
namespace {

using base::UniqueFd;

std::string Hex(const unsigned char* d, unsigned n) {
  static const char kDigits[] = "0123456789abcdef";
  std::string s;
  s.reserve(n * 2);
  for (unsigned i = 0; i < n; ++i) {
    s.push_back(kDigits[d[i] >> 4]);
    s.push_back(kDigits[d[i] & 15]);
  }
  return s;
}

struct MdCtx {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~MdCtx() { EVP_MD_CTX_free(ctx); }
};

std::string Sha256Of(std::string_view data) {
  MdCtx c;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  EVP_DigestInit_ex(c.ctx, EVP_sha256(), nullptr);
  EVP_DigestUpdate(c.ctx, data.data(), data.size());
  EVP_DigestFinal_ex(c.ctx, md, &n);
  return Hex(md, n);
}

// A read-only mapping that unmaps itself.
struct Mapping {
  void* p = MAP_FAILED;
  size_t n = 0;
  ~Mapping() {
    if (p != MAP_FAILED) ::munmap(p, n);
  }
  std::string_view view() const { return {static_cast<const char*>(p), n}; }
};

void AddElfNotices(const ImageEntry& e, const ElfFindings& f, const Image& img,
                   std::vector<Finding>* out) {
  auto add = [&](const char* kind, std::string why) {
    out->push_back({img.impl, "/" + e.path, kind, std::move(why)});
  };
  if (f.exec_stack) add(kNoticeExecstack, "ELF file requests an executable stack");
  if (f.text_relocs) add(kNoticeTextrel, "ELF file has text relocations");
  if (!f.bad_rpath.empty()) {
    add(kNoticeRpath, "RPATH/RUNPATH \"" + f.bad_rpath + "\" points into a build directory");
  }
  if (f.pre_stripped) add(kNoticePreStripped, "ELF file was stripped before merge (no .symtab)");
}

class Worker {
 public:
  Worker(Image& img, const MergePolicy& p, const ContentOptions& o) : img_(img), p_(p), o_(o) {}

  base::Status One(ImageEntry& e) {
    auto [dir, name] = SplitParent(e.path);
    if (!dirfd_ || dir != dir_) {
      NSB_ASSIGN_OR_RETURN(dirfd_, OpenDirBeneath(img_.root, dir));
      dir_ = dir;
    }
    UniqueFd fd(::openat(dirfd_.get(), name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
    if (!fd) return base::ErrnoError("open /" + e.path + " in image " + img_.path);
    struct stat st;
    if (::fstat(fd.get(), &st) != 0 || st.st_ino != e.ino || !S_ISREG(st.st_mode) ||
        st.st_size != e.size) {
      return base::PlainError("/" + e.path + " in image " + img_.path +
                              " changed after it was checked");
    }
    char head[256];
    ssize_t got = ::pread(fd.get(), head, sizeof head, 0);
    bool elf = got >= 4 && std::memcmp(head, "\177ELF", 4) == 0;
    if (got > 0 && (e.mode & 0111)) e.head.assign(head, static_cast<size_t>(got));
    if (!o_.hash && !elf) return {};
    Mapping m;
    m.n = static_cast<size_t>(e.size);
    if (m.n > 0) {
      m.p = ::mmap(nullptr, m.n, PROT_READ, MAP_PRIVATE, fd.get(), 0);
      if (m.p == MAP_FAILED) return base::ErrnoError("mmap /" + e.path);
      ::madvise(m.p, m.n, MADV_SEQUENTIAL);
    }
    if (o_.hash) e.sha256 = Sha256Of(m.n ? m.view() : std::string_view());
    if (elf) {
      e.is_elf = true;
      AddElfNotices(e, AnalyzeElf(m.view(), p_.build_dirs), img_, &notices_);
    }
    return {};
  }

  std::vector<Finding> notices_;

 private:
  Image& img_;
  const MergePolicy& p_;
  const ContentOptions& o_;
  UniqueFd dirfd_;
  std::string dir_;
};

}  // namespace

std::string Sha256Hex(std::string_view data) { return Sha256Of(data); }

base::Result<std::string> Sha256Fd(int fd) {
  MdCtx c;
  EVP_DigestInit_ex(c.ctx, EVP_sha256(), nullptr);
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return base::ErrnoError("read for sha256");
    if (n == 0) break;
    EVP_DigestUpdate(c.ctx, buf, static_cast<size_t>(n));
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  EVP_DigestFinal_ex(c.ctx, md, &n);
  return Hex(md, n);
}

base::Status ReadContents(Image& img, const MergePolicy& policy, const ContentOptions& opts,
                          std::vector<Finding>* notices) {
  std::vector<ImageEntry*> files;
  for (auto& e : img.entries) {
    if (e.type == EntryType::kFile) files.push_back(&e);
  }
  unsigned n = opts.threads > 0 ? unsigned(opts.threads) : std::thread::hardware_concurrency();
  n = std::max(1u, std::min(n, unsigned(files.size() / 64 + 1)));
  std::vector<std::unique_ptr<Worker>> workers;
  std::vector<base::Status> results(n);
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < n; ++t) {
    workers.push_back(std::make_unique<Worker>(img, policy, opts));
    // Contiguous slices keep each worker in few directories (one dirfd each).
    size_t lo = files.size() * t / n, hi = files.size() * (t + 1) / n;
    threads.emplace_back([&, t, lo, hi] {
      for (size_t i = lo; i < hi && results[t].ok(); ++i) results[t] = workers[t]->One(*files[i]);
    });
  }
  for (auto& th : threads) th.join();
  for (unsigned t = 0; t < n; ++t) {
    NSB_TRY(std::move(results[t]));
    notices->insert(notices->end(), workers[t]->notices_.begin(), workers[t]->notices_.end());
  }
  return {};
}

}  // namespace nsbuild::merge
