#include "builder/images.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>

#include "base/dir_fd.h"
#include "base/fs.h"
#include "builder/merge_handoff.h"
#include "builder/preflight.h"
#include "merge/content.h"

namespace nsbuild::builder {

BuiltImage MeasureImage(const std::string& target, const std::string& path, int dir_fd) {
  BuiltImage img{target, path, 0, 0};
  if (dir_fd < 0) return img;
  // By fd from the image's root: symlinks are counted, never followed.
  (void)base::WalkTreeAt(base::BorrowedFd(dir_fd),
                         [&img](int, const std::string&, const struct stat& st) {
                           if (S_ISREG(st.st_mode)) {
                             ++img.files;
                             img.bytes += static_cast<uint64_t>(st.st_size);
                           } else if (S_ISLNK(st.st_mode)) {
                             ++img.files;
                           }
                           return true;
                         });
  return img;
}

namespace {

base::Status MergeInto(const merge::MergeRequest& req, const HandOff& h) {
  NSB_TRY(CreateDest(req.dest));
  NSB_ASSIGN_OR_RETURN(merge::MergeReport rep, merge::MergeImages(req));
  if (h.merge_step) RecordMerge(rep, h.merge_step);
  if (!PrintMergeReport("build", rep, req.images)) {
    return base::PlainError("nothing was merged into " + req.dest);
  }
  spdlog::info(
      "merged {}-{} into {} ({} operations{})", h.package, h.version, req.dest, rep.operations,
      rep.wrapped.empty() ? "" : ", " + std::to_string(rep.wrapped.size()) + " wrapped programs");
  return {};
}

}  // namespace

base::Result<merge::MergeRequest> MergeRequestOf(const MergeFacts& f) {
  const BuildSetup& s = *f.setup;
  merge::MergeRequest req;
  req.dest = f.dest;
  req.package = s.recipe.name;
  for (const auto& img : f.images) req.images.push_back({img.target, img.path});
  req.impl_order = PreferenceOrder(s.impls, DebianDefaultPython());
  req.wrapped_dirs = s.recipe.wrap;
  req.dispatcher_path = DispatcherPath();
  req.policy = s.policy.merge;
  req.source_date_epoch = f.source_date_epoch;
  if (f.recipe_path.empty()) return req;
  // "recipe /abs/path.json" and the recipe's sha256 (of the bytes parsed):
  // the merger refuses to let another recipe's package of the same name
  // replace this one.
  char* abs = ::realpath(f.recipe_path.c_str(), nullptr);
  if (!abs) return base::ErrnoError("resolve the recipe path " + f.recipe_path);
  req.origin = std::string("recipe ") + abs;
  std::free(abs);
  req.origin_sha256 = s.recipe.sha256;
  req.replace = f.replace;
  return req;
}

base::Status HandOffImages(const HandOff& h) {
  std::string list;
  for (const auto& img : h.images) {
    list += img.target + "\t" + img.path + "\t" + std::to_string(img.files) + " files\t" +
            std::to_string(img.bytes) + " bytes\n";
  }
  std::string path = h.work_dir + "/images.txt";
  // Through the work dir's fd: images.txt.tmp is made afresh (O_EXCL,
  // O_NOFOLLOW), so nothing planted there is written through.
  if (auto st = base::WriteFileAtomicAt(base::BorrowedFd(h.work_dir_fd), "images.txt", list); !st)
    return base::Wrap(st.take_error(), h.work_dir);
  if (!h.merge) {
    spdlog::info("{} image(s) of {}-{} left in {} (listed in {}); --dest DIR merges them",
                 h.images.size(), h.package, h.version, h.work_dir + "/targets/*/image", path);
    return {};
  }
  return MergeInto(*h.merge, h);
}

}  // namespace nsbuild::builder
