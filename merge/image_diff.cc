#include "merge/image_diff.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>

#include "base/fs.h"
#include "merge/content.h"
#include "merge/fd_walk.h"
#include "merge/image_scan.h"

extern char** environ;

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
  NSB_ASSIGN_OR_RETURN(Image img, ScanImage(root, "", ScanLimits{}));
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
    s += path + '\t' + c.type + '\t' + c.mode + '\t' + c.payload + '\t' + c.owner + '\t' + c.mtime + '\n';
  }
  return s;
}

std::vector<std::string> Differences(const Canon& a, const Canon& b) {
  std::vector<std::string> what;
  if (a.type != b.type) return {"type " + a.type + " vs " + b.type};
  if (a.mode != b.mode) what.push_back("mode " + a.mode + " vs " + b.mode);
  if (a.payload != b.payload) what.push_back(a.type == "symlink" ? "target " + a.payload + " vs " + b.payload : "content");
  if (a.owner != b.owner) what.push_back("owner " + a.owner + " vs " + b.owner);
  if (a.mtime != b.mtime) what.push_back("mtime " + a.mtime + " vs " + b.mtime);
  return what;
}

bool LooksLikeText(const std::string& s) {
  return s.find('\0') == std::string::npos;
}

std::string Run(const std::vector<std::string>& argv) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return "";
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid;
  int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  close(fds[1]);
  std::string out;
  char buf[4096];
  ssize_t n;
  while (rc == 0 && (n = read(fds[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  if (rc == 0) waitpid(pid, nullptr, 0);
  return out;
}

}  // namespace

base::Result<std::string> CanonicalListing(const std::string& root, const DiffOptions& opts) {
  NSB_ASSIGN_OR_RETURN(auto m, Read(root, opts));
  return Listing(m);
}

base::Result<ImageDiff> DiffImages(const std::string& a, const std::string& b, const DiffOptions& opts) {
  NSB_ASSIGN_OR_RETURN(auto ma, Read(a, opts));
  NSB_ASSIGN_OR_RETURN(auto mb, Read(b, opts));
  ImageDiff d{Sha256Hex(Listing(ma)), Sha256Hex(Listing(mb)), {}};
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
      for (const auto& w : Differences(ia->second, ib->second)) what += (what.empty() ? "" : ", ") + w;
      if (!what.empty()) d.diffs.push_back({ia->first, what});
      ++ia;
      ++ib;
    }
  }
  return d;
}

std::string DescribeFileDifference(const std::string& a_root, const std::string& b_root,
                                   const std::string& rel, int max_lines) {
  auto [parent, leaf] = SplitParent(rel);
  auto ra = OpenRootDir(a_root);
  auto rb = OpenRootDir(b_root);
  if (!ra || !rb) return "";
  auto da = OpenDirBeneath(*ra, parent);
  auto db = OpenDirBeneath(*rb, parent);
  if (!da || !db) return "";
  auto fa = base::ReadFileAt(*da, leaf);  // O_NOFOLLOW on the leaf, no links above it
  auto fb = base::ReadFileAt(*db, leaf);
  if (!fa || !fb) return "";
  if (LooksLikeText(*fa) && LooksLikeText(*fb)) {
    std::string out = Run({"diff", "-u", "--label", "A/" + rel, "--label", "B/" + rel,
                           a_root + "/" + rel, b_root + "/" + rel});
    size_t pos = 0;
    for (int i = 0; i < max_lines && pos != std::string::npos; ++i) pos = out.find('\n', pos + 1);
    if (pos != std::string::npos) out = out.substr(0, pos + 1) + "    ... (diff cut)\n";
    return out;
  }
  size_t i = 0;
  while (i < fa->size() && i < fb->size() && (*fa)[i] == (*fb)[i]) ++i;
  char line[160];
  std::snprintf(line, sizeof line, "    binary: %zu vs %zu bytes, first difference at byte offset %zu\n",
                fa->size(), fb->size(), i);
  return line;
}

}  // namespace nsbuild::merge
