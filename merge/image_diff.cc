#include "merge/image_diff.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>

#include "base/fs.h"
#include "base/sha256.h"
#include "base/subprocess.h"
#include "merge/content.h"
#include "merge/fd_walk.h"
#include "merge/image_scan.h"

namespace nsbuild::merge {
namespace {

// What counts about one entry, already rendered for comparison.
struct Canon {
  std::string type;
  std::string mode;
  std::string payload;  // sha256 or symlink target
  std::string owner;
  std::string mtime;
};

base::Result<std::map<std::string, Canon>> Read(const std::string& root, const DiffOptions& opts) {
  NSB_ASSIGN_OR_RETURN(ScannedImage img, ScanImage(root, "", ScanLimits{}));
  if (!img.problems.empty()) {
    return base::PlainError(root + "/" + img.problems[0].path + ": " + img.problems[0].reason);
  }
  std::map<std::string, Canon> out;
  for (const ImageEntry& e : img.entries) {
    Canon c{EntryTypeName(e.type), OctalMode(e.mode), "", "", ""};
    if (e.type == EntryType::kSymlink) c.payload = e.target;
    if (e.type == EntryType::kFile) {
      NSB_ASSIGN_OR_RETURN(c.payload, HashBeneath(img.root, e.path));
    }
    if (opts.owner) c.owner = std::to_string(e.uid) + ":" + std::to_string(e.gid);
    if (opts.mtime) c.mtime = std::to_string(e.mtime);
    out[e.path] = std::move(c);
  }
  return out;
}

std::string Listing(const std::map<std::string, Canon>& m) {
  std::string s;
  for (const auto& [path, c] : m) {
    s += path + '\t' + c.type + '\t' + c.mode + '\t' + c.payload + '\t' + c.owner + '\t' + c.mtime +
         '\n';
  }
  return s;
}

std::vector<std::string> Differences(const Canon& a, const Canon& b) {
  std::vector<std::string> what;
  if (a.type != b.type) return {"type " + a.type + " vs " + b.type};
  if (a.mode != b.mode) what.push_back("mode " + a.mode + " vs " + b.mode);
  if (a.payload != b.payload)
    what.push_back(a.type == "symlink" ? "target " + a.payload + " vs " + b.payload : "content");
  if (a.owner != b.owner) what.push_back("owner " + a.owner + " vs " + b.owner);
  if (a.mtime != b.mtime) what.push_back("mtime " + a.mtime + " vs " + b.mtime);
  return what;
}

// Text diffs only for files this small: `diff -u` holds both in memory,
// and a person reads no more than the first lines anyway.
constexpr int64_t kTextDiffCap = int64_t{1} << 20;

// Runs argv with `fds` made 3, 4, ... in the child (diff reads /dev/fd/N:
// the files were opened beneath their roots, never by a path that a
// symlink could redirect). Returns its stdout, at most `cap` bytes.
std::string Run(const std::vector<std::string>& argv, const std::vector<int>& fds, size_t cap) {
  base::SpawnOptions opts;
  opts.argv = argv;
  opts.search_path = true;
  for (size_t i = 0; i < fds.size(); ++i) opts.fds.push_back({static_cast<int>(3 + i), fds[i]});
  auto got = base::RunCapturingStdout(std::move(opts), cap);
  return got.ok() ? std::move(got->out) : "";
}

base::Result<base::UniqueFd> OpenBeneath(const std::string& root, const std::string& rel) {
  auto [parent, leaf] = SplitParent(rel);
  NSB_ASSIGN_OR_RETURN(base::UniqueFd r, OpenRootDir(root));
  NSB_ASSIGN_OR_RETURN(base::UniqueFd d, OpenDirBeneath(r, parent));
  base::UniqueFd fd(
      ::openat(d.get(), leaf.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
  struct stat st;
  if (!fd || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return base::ErrnoError("open " + root + "/" + rel);
  }
  return fd;
}

struct Compared {
  int64_t size_a = 0, size_b = 0;
  int64_t first_difference = -1;  // -1: none within the shorter file
  bool small = false;             // both at most kTextDiffCap
  bool text = false;              // small, and no NUL byte in either
};

// Both files side by side, 64 KiB at a time: memory stays flat whatever
// their size (a sparse file of a gigabyte costs a build nothing). Large
// files are read only up to their first difference.
Compared CompareStreams(int a, int b) {
  Compared c;
  struct stat sa, sb;
  if (::fstat(a, &sa) != 0 || ::fstat(b, &sb) != 0) return c;
  c.size_a = sa.st_size;
  c.size_b = sb.st_size;
  c.small = c.size_a <= kTextDiffCap && c.size_b <= kTextDiffCap;
  c.text = c.small;
  std::vector<char> ba(65536), bb(65536);
  for (int64_t off = 0;;) {
    ssize_t na = ::pread(a, ba.data(), ba.size(), off);
    ssize_t nb = ::pread(b, bb.data(), bb.size(), off);
    if (na < 0 || nb < 0) break;
    size_t common = static_cast<size_t>(std::min(na, nb));
    if (c.first_difference < 0) {
      size_t i = 0;
      while (i < common && ba[i] == bb[i]) ++i;
      if (i < common || na != nb) c.first_difference = off + static_cast<int64_t>(i);
    }
    if (c.text && (std::memchr(ba.data(), 0, static_cast<size_t>(na)) ||
                   std::memchr(bb.data(), 0, static_cast<size_t>(nb)))) {
      c.text = false;
    }
    if (na == 0 || nb == 0 || (c.first_difference >= 0 && !c.text)) break;
    off += static_cast<int64_t>(common);
  }
  return c;
}

}  // namespace

base::Result<std::string> CanonicalListing(const std::string& root, const DiffOptions& opts) {
  NSB_ASSIGN_OR_RETURN(auto m, Read(root, opts));
  return Listing(m);
}

base::Result<ImageDiff> DiffImages(const std::string& a, const std::string& b,
                                   const DiffOptions& opts) {
  NSB_ASSIGN_OR_RETURN(auto ma, Read(a, opts));
  NSB_ASSIGN_OR_RETURN(auto mb, Read(b, opts));
  ImageDiff d{base::Sha256Hex(Listing(ma)), base::Sha256Hex(Listing(mb)), {}};
  auto ia = ma.begin();
  auto ib = mb.begin();
  while (ia != ma.end() || ib != mb.end()) {
    if (ib == mb.end() || (ia != ma.end() && ia->first < ib->first)) {
      d.diffs.push_back({ia->first, "only in A"});
      ++ia;
    } else if (ia == ma.end() || ib->first < ia->first) {
      d.diffs.push_back({ib->first, "only in B"});
      ++ib;
    } else {
      std::string what;
      for (const auto& w : Differences(ia->second, ib->second))
        what += (what.empty() ? "" : ", ") + w;
      if (!what.empty()) d.diffs.push_back({ia->first, what});
      ++ia;
      ++ib;
    }
  }
  return d;
}

std::string DescribeFileDifference(const std::string& a_root, const std::string& b_root,
                                   const std::string& rel, int max_lines) {
  auto fa = OpenBeneath(a_root, rel);
  auto fb = OpenBeneath(b_root, rel);
  if (!fa || !fb) return "";
  Compared c = CompareStreams(fa->get(), fb->get());
  if (c.text && c.size_a <= kTextDiffCap && c.size_b <= kTextDiffCap) {
    std::string out =
        Run({"diff", "-u", "--label", "A/" + rel, "--label", "B/" + rel, "/dev/fd/3", "/dev/fd/4"},
            {fa->get(), fb->get()}, size_t{1} << 20);
    size_t pos = 0;
    for (int i = 0; i < max_lines && pos != std::string::npos; ++i) pos = out.find('\n', pos + 1);
    if (pos != std::string::npos) out = out.substr(0, pos + 1) + "    ... (diff cut)\n";
    return out;
  }
  char line[200];
  std::snprintf(line, sizeof line,
                "    %s: %lld vs %lld bytes, first difference at byte offset %lld\n",
                c.small ? "binary" : "over 1 MiB, not diffed", static_cast<long long>(c.size_a),
                static_cast<long long>(c.size_b),
                static_cast<long long>(c.first_difference < 0 ? std::min(c.size_a, c.size_b)
                                                              : c.first_difference));
  return line;
}

}  // namespace nsbuild::merge
