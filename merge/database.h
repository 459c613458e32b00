// The installed-files database: one JSON document per package under the
// destination's var/lib/nsbuild/, naming every path the package installed
// with what was installed there, so that collisions, uninstall and
// verify-installed can tell the package's files from everybody else's and
// from files an admin changed since.
//
//   {"format": 1, "package": "NAME", "origin": "recipe /r/foo.json",
//    "origin_sha256": "…",
//    "files": [{"path": "/usr/bin/x", "type": "file", "mode": "0755",
//               "size": 12, "sha256": "…", "mtime": 0, "impl": "py311"},
//              {"path": "/usr/bin", "type": "dir", "mode": "0755"},
//              {"path": "/usr/lib/x.so", "type": "symlink", "target": "x.so.1"}]}
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "merge/image_scan.h"

namespace nsbuild::merge {

struct DbRecord {
  std::string path;  // absolute inside the destination, "/usr/bin/x"
  EntryType type = EntryType::kFile;
  mode_t perm = 0;  // permission bits incl. sticky
  int64_t size = 0;
  std::string sha256;  // files
  int64_t mtime = 0;
  std::string target;   // symlinks
  std::string impl;     // implementation it came from, "" when shared by all
  bool shared = false;  // may be listed by several packages (the dispatcher)
};

struct PackageDb {
  std::string package;
  std::string origin;             // "recipe /abs/path.json" or "operator" (merge.h)
  std::string origin_sha256;      // the recipe's, when from a recipe
  std::vector<DbRecord> records;  // sorted by path
};

// Package names become file names: letters, digits and ._+- only, not
// starting with '.', at most 128 bytes.
base::Status ValidatePackageName(const std::string& name);

// Written by hand rather than through nlohmann::json: for 100k files the
// generic object tree costs more than the merge's syscalls. Read back with
// the strict reader (ParseDb).
std::string SerializeDb(const PackageDb& db);
// A JSON string literal; escapes quotes, backslashes and control bytes.
std::string JsonQuote(std::string_view s);
base::Result<PackageDb> ParseDb(const std::string& text, const std::string& where);

// The open var/lib/nsbuild directory of a destination (created on request).
base::Result<base::UniqueFd> OpenDbDir(base::BorrowedFd dest, bool create);
// nullopt when the package is not installed.
base::Result<std::optional<PackageDb>> LoadDb(base::BorrowedFd db_dir, const std::string& name);
base::Result<std::vector<PackageDb>> LoadAllDbs(base::BorrowedFd db_dir);

// path → the packages that list it.
std::map<std::string, std::vector<std::string>> OwnerIndex(const std::vector<PackageDb>& dbs);

}  // namespace nsbuild::merge
