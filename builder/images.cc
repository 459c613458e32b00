#include "builder/images.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <filesystem>

#include "base/fs.h"

namespace nsbuild::builder {

Image MeasureImage(const std::string& target, const std::string& path) {
  Image img{target, path, 0, 0};
  namespace fs = std::filesystem;
  std::error_code ec;
  // recursive_directory_iterator does not follow directory symlinks by
  // default, and lstat never follows the last component.
  for (fs::recursive_directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
    struct stat st;
    if (::lstat(it->path().c_str(), &st) != 0) continue;
    if (S_ISREG(st.st_mode)) {
      ++img.files;
      img.bytes += static_cast<uint64_t>(st.st_size);
    } else if (S_ISLNK(st.st_mode)) {
      ++img.files;
    }
  }
  return img;
}

base::Status HandOffImages(const HandOff& h) {
  std::string list;
  for (const auto& img : h.images) {
    list += img.target + "\t" + img.path + "\t" + std::to_string(img.files) + " files\t" +
            std::to_string(img.bytes) + " bytes\n";
  }
  std::string path = h.work_dir + "/images.txt";
  NSB_TRY(base::WriteFileAtomic(path, list));
  // TODO(merge): call merge::MergeImages here once the merger lands.
  spdlog::info("no merger yet: {} image(s) of {}-{} left in {} (listed in {})", h.images.size(),
               h.package, h.version, h.work_dir + "/targets/*/image", path);
  return {};
}

}  // namespace nsbuild::builder
