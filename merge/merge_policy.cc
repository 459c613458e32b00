#include "merge/merge_policy.h"

#include <algorithm>
#include <charconv>

#include "base/json_reader.h"

namespace nsbuild::merge {
namespace {

const std::vector<std::string> kKnownNotices = {kNoticeRpath, kNoticeExecstack, kNoticeTextrel,
                                                kNoticeEmptyDir, kNoticePreStripped};

base::Status CheckAbsolute(const std::vector<std::string>& paths, const std::string& where) {
  for (const auto& p : paths) {
    if (p.empty() || p[0] != '/' || p.find("/../") != std::string::npos ||
        (p.size() > 1 && p.back() == '/')) {
      return base::JsonError(where, "\"" + p + "\" is not an absolute path without a trailing /");
    }
  }
  return {};
}

base::Status ParseOwner(const std::string& text, const std::string& where, MergePolicy* p) {
  auto colon = text.find(':');
  if (colon == std::string::npos) {
    return base::JsonError(where,
                           "expected \"USER:GROUP\" (numbers or root), got \"" + text + "\"");
  }
  NSB_ASSIGN_OR_RETURN(p->owner_uid, ParseOwnerId(text.substr(0, colon), where));
  NSB_ASSIGN_OR_RETURN(p->owner_gid, ParseOwnerId(text.substr(colon + 1), where));
  return {};
}

base::Status ParseLimits(base::JsonObject& o, MergePolicy* p) {
  NSB_TRY(o.Get("max_depth", &p->max_depth));
  NSB_TRY(o.Get("max_path_length", &p->max_path_length));
  NSB_TRY(o.Get("max_name_length", &p->max_name_length));
  NSB_TRY(o.Get("max_file_size", &p->max_file_size));
  if (p->max_depth < 1 || p->max_path_length < 1 || p->max_name_length < 1 ||
      p->max_file_size < 1 || p->max_name_length > 255 || p->max_path_length > 4095) {
    return base::JsonError(o.PathOf("max_*"),
                           "limits must be positive, names at most 255, paths at most 4095");
  }
  return {};
}

// [{"path": "/abs", "reason": "why"}]: the reason is required, so that an
// exception to the rule always says why it exists.
base::Status ParseWritableDirs(base::JsonObject& o, MergePolicy* p) {
  const nlohmann::json* list = o.Child("writable_dirs");
  if (!list) return {};
  std::string where = o.PathOf("writable_dirs");
  if (!list->is_array()) return base::JsonError(where, "expected an array");
  for (size_t i = 0; i < list->size(); ++i) {
    base::JsonObject d((*list)[i], where + "[" + std::to_string(i) + "]");
    NSB_TRY(d.Valid());
    WritableDir w;
    NSB_TRY(d.Get("path", &w.path, true));
    NSB_TRY(d.Get("reason", &w.reason, true));
    NSB_TRY(d.Finish());
    NSB_TRY(CheckAbsolute({w.path}, d.PathOf("path")));
    if (w.reason.find_first_not_of(" \t") == std::string::npos) {
      return base::JsonError(d.PathOf("reason"), "must say why others may write there");
    }
    p->writable_dirs.push_back(std::move(w));
  }
  return {};
}

}  // namespace

bool MergePolicy::NoticeIsFatal(const std::string& kind) const {
  return std::find(fatal_notices.begin(), fatal_notices.end(), kind) != fatal_notices.end();
}

base::Result<uint32_t> ParseOwnerId(const std::string& text, const std::string& where) {
  if (text == "root") return 0u;
  uint32_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    return base::JsonError(where, "\"" + text + "\" is neither root nor a numeric id");
  }
  return v;
}

base::Result<MergePolicy> ParseMergePolicy(const nlohmann::json& j, const std::string& where) {
  MergePolicy p;
  base::JsonObject o(j, where);
  NSB_TRY(o.Valid());
  std::string owner;
  NSB_TRY(o.Get("owner", &owner));
  if (o.Has("owner")) NSB_TRY(ParseOwner(owner, o.PathOf("owner"), &p));
  NSB_TRY(o.Get("allowed_prefixes", &p.allowed_prefixes));
  NSB_TRY(CheckAbsolute(p.allowed_prefixes, o.PathOf("allowed_prefixes")));
  NSB_TRY(o.Get("protected_config", &p.protected_config));
  NSB_TRY(CheckAbsolute(p.protected_config, o.PathOf("protected_config")));
  NSB_TRY(o.Get("build_dirs", &p.build_dirs));
  NSB_TRY(CheckAbsolute(p.build_dirs, o.PathOf("build_dirs")));
  NSB_TRY(o.Get("allowed_xattrs", &p.allowed_xattrs));
  NSB_TRY(o.Get("fatal_notices", &p.fatal_notices));
  for (const auto& n : p.fatal_notices) {
    if (std::find(kKnownNotices.begin(), kKnownNotices.end(), n) == kKnownNotices.end()) {
      return base::JsonError(o.PathOf("fatal_notices"),
                             "unknown notice \"" + n +
                                 "\" (known: rpath, execstack, textrel, empty-dir, pre-stripped)");
    }
  }
  NSB_TRY(ParseWritableDirs(o, &p));
  NSB_TRY(ParseLimits(o, &p));
  NSB_TRY(o.Finish());
  return p;
}

}  // namespace nsbuild::merge
