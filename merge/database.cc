#include "merge/database.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "base/fs.h"
#include "base/json_reader.h"
#include "merge/checks.h"
#include "merge/fd_walk.h"

namespace nsbuild::merge {
namespace {

using nlohmann::json;

base::Result<EntryType> ParseType(const std::string& s, const std::string& where) {
  if (s == "file") return EntryType::kFile;
  if (s == "dir") return EntryType::kDir;
  if (s == "symlink") return EntryType::kSymlink;
  return base::JsonError(where, "type must be file, dir or symlink, got \"" + s + "\"");
}

base::Result<mode_t> ParseMode(const std::string& s, const std::string& where) {
  char* end = nullptr;
  unsigned long v = std::strtoul(s.c_str(), &end, 8);
  if (s.empty() || *end != '\0' || v > 07777) {
    return base::JsonError(where, "mode must be an octal string like \"0755\"");
  }
  return static_cast<mode_t>(v);
}

base::Result<DbRecord> ParseRecord(const json& j, const std::string& where) {
  base::JsonObject o(j, where);
  NSB_TRY(o.Valid());
  DbRecord r;
  std::string type, mode;
  NSB_TRY(o.Get("path", &r.path, true));
  NSB_TRY(o.Get("type", &type, true));
  NSB_ASSIGN_OR_RETURN(r.type, ParseType(type, o.PathOf("type")));
  NSB_TRY(o.Get("mode", &mode, r.type != EntryType::kSymlink));
  if (!mode.empty()) {
    NSB_ASSIGN_OR_RETURN(r.perm, ParseMode(mode, o.PathOf("mode")));
  }
  NSB_TRY(o.Get("size", &r.size));
  NSB_TRY(o.Get("sha256", &r.sha256));
  NSB_TRY(o.Get("mtime", &r.mtime));
  NSB_TRY(o.Get("target", &r.target, r.type == EntryType::kSymlink));
  NSB_TRY(o.Get("impl", &r.impl));
  NSB_TRY(o.Get("shared", &r.shared));
  NSB_TRY(o.Finish());
  if (r.path.size() < 2 || r.path[0] != '/')
    return base::JsonError(o.PathOf("path"), "not absolute");
  return r;
}

void AppendRecord(const DbRecord& r, std::string* out) {
  *out += "  {\"path\": " + JsonQuote(r.path) + ", \"type\": \"" + EntryTypeName(r.type) + "\"";
  if (r.type != EntryType::kSymlink) *out += ", \"mode\": \"" + OctalMode(r.perm) + "\"";
  if (r.type == EntryType::kFile) {
    *out += ", \"size\": " + std::to_string(r.size);
    if (!r.sha256.empty()) *out += ", \"sha256\": " + JsonQuote(r.sha256);
  }
  if (r.type != EntryType::kDir) *out += ", \"mtime\": " + std::to_string(r.mtime);
  if (r.type == EntryType::kSymlink) *out += ", \"target\": " + JsonQuote(r.target);
  if (!r.impl.empty()) *out += ", \"impl\": " + JsonQuote(r.impl);
  if (r.shared) *out += ", \"shared\": true";
  *out += "}";
}

}  // namespace

base::Status ValidatePackageName(const std::string& name) {
  bool ok = !name.empty() && name.size() <= 128 && name[0] != '.';
  for (char c : name) {
    ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '+' ||
                c == '-');
  }
  if (!ok) {
    return base::PlainError("package name \"" + name +
                            "\" must be 1-128 of [A-Za-z0-9._+-], not starting with '.'");
  }
  return {};
}

std::string JsonQuote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string SerializeDb(const PackageDb& db) {
  std::string out = "{\"format\": 1, \"package\": " + JsonQuote(db.package);
  if (!db.origin.empty()) out += ", \"origin\": " + JsonQuote(db.origin);
  if (!db.origin_sha256.empty()) out += ", \"origin_sha256\": " + JsonQuote(db.origin_sha256);
  out += ", \"files\": [\n";
  out.reserve(db.records.size() * 160);
  for (size_t i = 0; i < db.records.size(); ++i) {
    AppendRecord(db.records[i], &out);
    out += i + 1 < db.records.size() ? ",\n" : "\n";
  }
  return out + "]}\n";
}

base::Result<PackageDb> ParseDb(const std::string& text, const std::string& where) {
  NSB_ASSIGN_OR_RETURN(json j, base::ParseJsonText(text, where));
  base::JsonObject o(j, where + ": $");
  NSB_TRY(o.Valid());
  PackageDb db;
  int64_t format = 0;
  NSB_TRY(o.Get("format", &format, true));
  if (format != 1) return base::JsonError(o.PathOf("format"), "unsupported format");
  NSB_TRY(o.Get("package", &db.package, true));
  NSB_TRY(o.Get("origin", &db.origin));
  NSB_TRY(o.Get("origin_sha256", &db.origin_sha256));
  const json* files = o.Child("files");
  if (!files || !files->is_array()) return base::JsonError(o.PathOf("files"), "expected an array");
  for (size_t i = 0; i < files->size(); ++i) {
    NSB_ASSIGN_OR_RETURN(
        DbRecord r, ParseRecord((*files)[i], o.PathOf("files") + "[" + std::to_string(i) + "]"));
    db.records.push_back(std::move(r));
  }
  NSB_TRY(o.Finish());
  return db;
}

base::Result<base::UniqueFd> OpenDbDir(base::BorrowedFd dest, bool create) {
  if (create) return MakeDirsBeneath(dest, kDbDir, 0755, nullptr);
  return OpenDirBeneath(dest, kDbDir);
}

base::Result<std::optional<PackageDb>> LoadDb(base::BorrowedFd db_dir, const std::string& name) {
  NSB_TRY(ValidatePackageName(name));
  auto text = base::ReadFileAt(db_dir, name + ".json");
  if (!text.ok()) {
    if (text.error().errnum == ENOENT) return std::optional<PackageDb>();
    return base::Wrap(text.take_error(), std::string(kDbDir));
  }
  NSB_ASSIGN_OR_RETURN(PackageDb db, ParseDb(*text, std::string(kDbDir) + "/" + name + ".json"));
  return std::optional<PackageDb>(std::move(db));
}

base::Result<std::vector<PackageDb>> LoadAllDbs(base::BorrowedFd db_dir) {
  int dup = ::fcntl(db_dir.get(), F_DUPFD_CLOEXEC, 0);
  DIR* d = dup >= 0 ? ::fdopendir(dup) : nullptr;
  if (!d) {
    if (dup >= 0) ::close(dup);
    return base::ErrnoError(std::string("list ") + kDbDir);
  }
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n.size() > 5 && n.compare(n.size() - 5, 5, ".json") == 0 && n[0] != '.') {
      names.push_back(n.substr(0, n.size() - 5));
    }
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  std::vector<PackageDb> out;
  for (const auto& n : names) {
    NSB_ASSIGN_OR_RETURN(auto db, LoadDb(db_dir, n));
    if (db) out.push_back(std::move(*db));
  }
  return out;
}

std::map<std::string, std::vector<std::string>> OwnerIndex(const std::vector<PackageDb>& dbs) {
  std::map<std::string, std::vector<std::string>> idx;
  for (const auto& db : dbs) {
    for (const auto& r : db.records) idx[r.path].push_back(db.package);
  }
  return idx;
}

}  // namespace nsbuild::merge
