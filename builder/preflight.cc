#include "builder/preflight.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "builder/sandbox_runner.h"
#include "merge/database.h"

namespace nsbuild::builder {
namespace {

namespace fs = std::filesystem;

std::string Octal(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", mode & 07777);
  return buf;
}

std::string Absolute(const std::string& path) {
  std::error_code ec;
  fs::path abs = fs::absolute(path, ec).lexically_normal();
  std::string s = ec ? path : abs.string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

base::Status WritableDir(const std::string& path, const std::string& what) {
  struct stat st = {};
  if (::stat(path.c_str(), &st) != 0) return base::ErrnoError(what + " " + path);
  if (!S_ISDIR(st.st_mode)) return base::PlainError(what + " " + path + " is not a directory");
  if (::access(path.c_str(), W_OK | X_OK) != 0) {
    return base::ErrnoError(what + " " + path + " is not writable");
  }
  return {};
}

bool Within(const std::string& path, const std::string& top) {
  return path == top || (path.size() > top.size() && path.compare(0, top.size(), top) == 0 &&
                         (top == "/" || path[top.size()] == '/'));
}

// What of the read-only view an addwrite at `path` would hide, "" if nothing.
std::string HiddenBy(const sandbox::Policy& policy, const std::string& path) {
  for (const auto& b : policy.ro_binds) {
    if (Within(b.target, path) && b.target != path) return b.target;
    if (!Within(path, b.target)) continue;
    std::string host = b.source + path.substr(b.target.size());
    struct stat st = {};
    if (::lstat(host.c_str(), &st) == 0) return path + " (the host's " + host + ")";
  }
  for (const auto& link : policy.mirror_links) {
    struct stat st = {};
    if ((Within(path, link) || Within(link, path)) && ::lstat(link.c_str(), &st) == 0) return link;
  }
  return "";
}

}  // namespace

base::Status CheckAddWrite(const sandbox::Policy& policy, const std::vector<AddWrite>& addwrite,
                           const std::string& recipe_path) {
  for (const auto& a : addwrite) {
    std::string hidden = HiddenBy(policy, a.path);
    if (hidden.empty()) continue;
    return base::PlainError(
        recipe_path + ": addwrite " + a.path + ": the sandbox's read-only view has " + hidden +
        ", and addwrite puts a private, empty tmpfs there that would hide it; write under $T, "
        "$BUILD_DIR or $D instead (install with DESTDIR=$D or --root=$D), or addwrite a path the "
        "view does not have");
  }
  return {};
}

base::Status CheckDest(const std::string& dest) {
  if (dest.empty()) return {};
  std::string abs = Absolute(dest);
  struct stat st = {};
  if (::stat(abs.c_str(), &st) == 0) {
    if (auto s = WritableDir(abs, "--dest"); !s) {
      return base::PlainError(s.error().Message() + ": give a directory you can write");
    }
    return {};
  }
  if (errno != ENOENT) return base::ErrnoError("--dest " + abs);
  std::string parent = fs::path(abs).parent_path().string();
  if (auto s = WritableDir(parent, "--dest's parent"); !s) {
    return base::PlainError("--dest " + abs + " cannot be created (" + s.error().Message() +
                            "): create it first (mkdir -p " + abs + ") or choose another");
  }
  return {};
}

base::Status CreateDest(const std::string& dest) {
  if (::mkdir(dest.c_str(), 0755) != 0 && errno != EEXIST) {
    return base::ErrnoError("create destination " + dest);
  }
  return {};
}

base::Status PrepareDest(const std::string& dest) {
  NSB_TRY(CheckDest(dest));
  return CreateDest(dest);
}

bool CanSearch(mode_t mode, uid_t owner, gid_t group, uid_t uid, gid_t gid) {
  if (uid == 0) return true;  // only our own root; a mapped id is never 0 here
  if (owner == uid) return mode & S_IXUSR;
  if (group == gid) return mode & S_IXGRP;
  return mode & S_IXOTH;
}

base::Status CheckWorkDirReachable(const std::string& work_dir, uid_t uid, gid_t gid) {
  if (uid == ::geteuid() && gid == ::getegid()) return {};
  fs::path abs(Absolute(work_dir));
  fs::path at("/");
  for (auto part = abs.begin(); part != abs.end(); ++part) {
    if (part != abs.begin()) at /= *part;
    struct stat st = {};
    if (::stat(at.c_str(), &st) != 0) return {};  // created by us, searchable (0755)
    if (!S_ISDIR(st.st_mode))
      return base::PlainError("work dir " + abs.string() + ": " + at.string() +
                              " is not a directory");
    if (!CanSearch(st.st_mode, st.st_uid, st.st_gid, uid, gid)) {
      return base::PlainError(
          "work dir " + abs.string() + ": the sandbox's user (host uid " + std::to_string(uid) +
          ") cannot search " + at.string() + " (mode " + Octal(st.st_mode) +
          "): choose a work dir under a directory anyone can search, e.g. --work-dir "
          "/var/tmp/nsbuild/NAME, or chmod o+x " +
          at.string());
    }
  }
  return {};
}

base::Status CheckGenericPrograms(const Recipe& recipe, const std::vector<std::string>& requested) {
  const std::vector<std::string>& used = requested.empty() ? recipe.implementations : requested;
  for (const auto& g : recipe.generic_impls) {
    if (std::find(used.begin(), used.end(), g.name) == used.end()) continue;
    struct stat st = {};
    bool ok = ::stat(g.program.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
              ::access(g.program.c_str(), X_OK) == 0;
    if (!ok) {
      return base::PlainError(recipe.path + ": define_implementations." + g.name + ".program " +
                              g.program +
                              " does not exist or is not executable: install it or correct the "
                              "path");
    }
  }
  return {};
}

base::Status CheckPackageName(const std::string& name) {
  if (auto s = merge::ValidatePackageName(name); !s) {
    return base::PlainError(s.error().Message() + ": the merger would refuse it; rename it");
  }
  return {};
}

base::Status CheckBeforeWork(const std::string& dest, const std::string& work_dir,
                             const std::string& package, const sandbox::Policy& policy) {
  NSB_TRY(CheckDest(dest));
  if (!dest.empty()) NSB_TRY(CheckPackageName(package));
  NSB_ASSIGN_OR_RETURN(auto ids, MappedHostIds(policy));
  return CheckWorkDirReachable(work_dir, ids.first, ids.second);
}

}  // namespace nsbuild::builder
