#include "merge/content.h"

#include <fcntl.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "base/sha256.h"
#include "base/sliced.h"
#include "merge/elf_qa.h"
#include "merge/fd_walk.h"

namespace nsbuild::merge {
namespace {

using base::UniqueFd;

void AddElfNotices(const ImageEntry& e, const ElfFindings& f, const ScannedImage& img,
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

// Sealing keeps new writers out (the file now belongs to the policy's
// owner), but not one that opened the file before: a build process still
// alive could change it after it was hashed and linked into the
// destination. The kernel grants a read lease only while nobody has the
// file open for writing (fcntl(2), F_SETLEASE), so taking one proves there
// is no such writer. Taken after the last read: a writer that closed
// before then and wrote after the pin moved the ctime (the merger then
// refuses to link the file), one still open is caught here. The caller's
// close drops the lease right after (a lease lives on its open file), which
// spares the F_UNLCK call. Where leases are unavailable (fs.leases-enable=0,
// a filesystem without them, a file we do not own) this cannot be checked
// and sealing alone protects.
base::Status NoWriterHoldsIt(int fd, const ImageEntry& e, const ScannedImage& img) {
  if (::fcntl(fd, F_SETLEASE, F_RDLCK) == 0) return {};
  if (errno == EAGAIN || errno == EBUSY) {
    return base::PlainError("/" + e.path + " in image " + img.path +
                            " is open for writing by a live process");
  }
  return {};
}

class Worker {
 public:
  Worker(ScannedImage& img, const MergePolicy& p, const ContentOptions& o)
      : img_(img), p_(p), o_(o) {}

  // open, fstat, read, close: plain reads into one reused buffer beat
  // mmap for the small files packages are made of (no page-table work, no
  // munmap TLB shootdowns across the hashing threads).
  base::Status One(ImageEntry& e, bool outside_links) {
    struct stat st;
    NSB_ASSIGN_OR_RETURN(UniqueFd fd, OpenScanned(e, &st));
    if (outside_links) {
      e.xattrs = ListXattrs(fd.get());
      return {};
    }
    if (o_.seal) {
      NSB_TRY(Seal(fd.get(), e, &st));
    } else {
      e.xattrs = ListXattrs(fd.get());
    }
    // Pinned before the first byte is read: whatever changes the file from
    // here on (a write, chmod, an ACL) moves its ctime, and the merger then
    // refuses to link it (transaction.cc).
    e.pin = PinOf(st);
    if (e.size <= p_.max_file_size) NSB_TRY(Read(fd.get(), e));  // else rejected, never read
    if (o_.seal) NSB_TRY(NoWriterHoldsIt(fd.get(), e, img_));
    return {};
  }

  std::vector<Finding> notices_;

 private:
  // The file under its scanned name, and only if it is still the scanned
  // inode (type, mode, links, size): nothing else is sealed or read.
  base::Result<UniqueFd> OpenScanned(const ImageEntry& e, struct stat* st) {
    auto [dir, name] = SplitParent(e.path);
    if (!dirfd_ || dir != dir_) {
      NSB_ASSIGN_OR_RETURN(dirfd_, OpenDirBeneath(img_.root, dir));
      dir_ = dir;
    }
    UniqueFd fd(
        ::openat(dirfd_.get(), name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
    if (!fd) return base::ErrnoError("open /" + e.path + " in image " + img_.path);
    if (::fstat(fd.get(), st) != 0 || st->st_ino != e.ino || st->st_mode != e.mode ||
        st->st_nlink != e.nlink || st->st_size != e.size) {
      return base::PlainError("/" + e.path + " in image " + img_.path +
                              " changed after it was scanned");
    }
    return fd;
  }

  // Seals the file, lists and strips its xattrs (one listing, after the
  // chown: seal.h), and leaves in `st` the inode as it is now, for the pin.
  base::Status Seal(int fd, ImageEntry& e, struct stat* st) {
    // The scan-check fstat serves, unless the inode has other names another
    // worker may have sealed since.
    if (e.nlink > 1 && ::fstat(fd, st) != 0) return base::ErrnoError("fstat /" + e.path);
    bool changed = false;
    NSB_TRY(SealFile(fd, e, p_, *o_.seal, *st, &changed));
    NSB_TRY(StripXattrs(fd, e, p_, &changed));
    // Unchanged, the inode's ctime is the one `st` holds: no second fstat.
    if ((changed || e.nlink > 1) && ::fstat(fd, st) != 0) {
      return base::ErrnoError("fstat /" + e.path);
    }
    return {};
  }

  // sha256 (when asked), the head of executables, and the ELF notices.
  base::Status Read(int fd, ImageEntry& e) {
    if (o_.hash) hasher_.Reset();
    bool first = true, elf = false;
    int64_t left = e.size;  // stop at the scanned size: saves the read that returns 0
    while (left > 0) {
      ssize_t n = ::read(fd, buf_.data(), buf_.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return base::ErrnoError("read /" + e.path + " in image " + img_.path);
      if (n == 0)
        return base::PlainError("/" + e.path + " in image " + img_.path + " shrank while read");
      left -= n;
      std::string_view chunk(buf_.data(), static_cast<size_t>(n));
      if (first) {
        elf = chunk.size() >= 4 && chunk.substr(0, 4) == "\177ELF";
        if (e.mode & 0111) e.head = std::string(chunk.substr(0, 256));
        first = false;
        if (!o_.hash) break;
      }
      hasher_.Update(chunk);
    }
    if (o_.hash) e.sha256 = hasher_.HexDigest();
    if (elf) {
      e.is_elf = true;
      // Headers and the tables needed, by pread: never the whole file.
      AddElfNotices(e, AnalyzeElfFd(fd, static_cast<uint64_t>(e.size), p_.build_dirs), img_,
                    &notices_);
    }
    return {};
  }

  ScannedImage& img_;
  const MergePolicy& p_;
  const ContentOptions& o_;
  UniqueFd dirfd_;
  std::string dir_;
  base::Sha256 hasher_;
  std::vector<char> buf_ = std::vector<char>(256 * 1024);
};

}  // namespace

base::Status ReadContents(ScannedImage& img, const MergePolicy& policy, const ContentOptions& opts,
                          std::vector<Finding>* notices) {
  // A file with one link has no name outside; only inodes with several
  // names are counted (a map of every file was a tree of a million nodes
  // at 1M files, built on one thread).
  std::vector<ImageEntry*> files;
  std::map<std::pair<dev_t, ino_t>, nlink_t> inside;
  for (auto& e : img.entries) {
    if (e.type != EntryType::kFile) continue;
    files.push_back(&e);
    if (e.nlink > 1) ++inside[{e.dev, e.ino}];
  }
  std::vector<char> outside(files.size());
  for (size_t i = 0; i < files.size(); ++i) {
    outside[i] = files[i]->nlink > 1 && files[i]->nlink > inside[{files[i]->dev, files[i]->ino}];
  }
  unsigned n = opts.threads > 0 ? unsigned(opts.threads)
                                : std::max(std::thread::hardware_concurrency(), kReadDepth);
  n = std::max(1u, std::min(n, unsigned(files.size() / 64 + 1)));
  // Every worker exists before the first thread starts: a thread reads
  // `workers`, which must not grow (and reallocate) under it.
  std::vector<std::unique_ptr<Worker>> workers;
  for (unsigned t = 0; t < n; ++t) workers.push_back(std::make_unique<Worker>(img, policy, opts));
  // Contiguous slices keep each worker in few directories (one dirfd each).
  base::Status done =
      base::Sliced(n, files.size(), [&](unsigned t, size_t lo, size_t hi) -> base::Status {
        for (size_t i = lo; i < hi; ++i) NSB_TRY(workers[t]->One(*files[i], outside[i]));
        return {};
      });
  // Names of one inode were sealed and pinned by different workers: the
  // last seal moved its ctime past earlier names' pins. The latest pin,
  // taken after every seal of the inode, stands for all of them.
  std::map<std::pair<dev_t, ino_t>, int64_t> latest;
  for (auto* f : files) {
    if (f->nlink > 1)
      latest[{f->dev, f->ino}] = std::max(latest[{f->dev, f->ino}], f->pin.ctime_ns);
  }
  for (auto* f : files) {
    if (f->nlink > 1) f->pin.ctime_ns = latest[{f->dev, f->ino}];
  }
  NSB_TRY(std::move(done));
  for (const auto& w : workers)
    notices->insert(notices->end(), w->notices_.begin(), w->notices_.end());
  return {};
}

}  // namespace nsbuild::merge
