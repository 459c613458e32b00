#include "merge/journal.h"

#include <cstdio>

#include "base/json_reader.h"

namespace nsbuild::merge {
namespace {

using nlohmann::json;

base::Result<OpKind> KindOf(const std::string& s, const std::string& where) {
  for (OpKind k : {OpKind::kMkdir, OpKind::kAdd, OpKind::kReplace, OpKind::kRemove, OpKind::kRmdir}) {
    if (s == OpKindName(k)) return k;
  }
  return base::JsonError(where, "unknown operation \"" + s + "\"");
}

base::Result<Op> ParseOp(const json& j, const std::string& where) {
  base::JsonObject o(j, where);
  NSB_TRY(o.Valid());
  Op op;
  std::string kind, mode;
  NSB_TRY(o.Get("op", &kind, true));
  NSB_ASSIGN_OR_RETURN(op.kind, KindOf(kind, o.PathOf("op")));
  NSB_TRY(o.Get("path", &op.path, true));
  NSB_TRY(o.Get("mode", &mode));
  NSB_TRY(o.Finish());
  if (!mode.empty()) op.perm = static_cast<mode_t>(std::strtoul(mode.c_str(), nullptr, 8) & 07777);
  if (op.path.empty() || op.path[0] == '/' || op.path.find("..") != std::string::npos) {
    return base::JsonError(o.PathOf("path"), "not a plain relative path");
  }
  return op;
}

}  // namespace

std::string TmpName(size_t i) { return ".nsb-tmp." + std::to_string(i); }
std::string OldName(size_t i) { return ".nsb-old." + std::to_string(i); }

std::string SerializeJournal(const Journal& j) {
  json ops = json::array();
  for (const auto& op : j.ops) {
    json o = {{"op", OpKindName(op.kind)}, {"path", op.path}};
    if (op.kind == OpKind::kMkdir || op.kind == OpKind::kRmdir) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(op.perm & 07777));
      o["mode"] = buf;
    }
    ops.push_back(std::move(o));
  }
  json doc = {{"format", 1}, {"package", j.package},
              {"state", j.committed ? "committed" : "prepared"}, {"delete_db", j.delete_db},
              {"ops", std::move(ops)}};
  return doc.dump() + "\n";
}

base::Result<Journal> ParseJournal(const std::string& text, const std::string& where) {
  NSB_ASSIGN_OR_RETURN(json doc, base::ParseJsonText(text, where));
  base::JsonObject o(doc, where + ": $");
  NSB_TRY(o.Valid());
  Journal j;
  int64_t format = 0;
  std::string state;
  NSB_TRY(o.Get("format", &format, true));
  NSB_TRY(o.Get("package", &j.package, true));
  NSB_TRY(o.Get("state", &state, true));
  NSB_TRY(o.Get("delete_db", &j.delete_db, true));
  if (format != 1) return base::JsonError(o.PathOf("format"), "unsupported format");
  if (state != "prepared" && state != "committed") {
    return base::JsonError(o.PathOf("state"), "must be prepared or committed");
  }
  j.committed = state == "committed";
  const json* ops = o.Child("ops");
  if (!ops || !ops->is_array()) return base::JsonError(o.PathOf("ops"), "expected an array");
  for (size_t i = 0; i < ops->size(); ++i) {
    NSB_ASSIGN_OR_RETURN(Op op, ParseOp((*ops)[i], o.PathOf("ops") + "[" + std::to_string(i) + "]"));
    j.ops.push_back(std::move(op));
  }
  NSB_TRY(o.Finish());
  return j;
}

}  // namespace nsbuild::merge
