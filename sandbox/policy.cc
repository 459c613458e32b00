#include "sandbox/policy.h"

#include <sys/resource.h>

#include <map>
#include <nlohmann/json.hpp>

#include "base/json_reader.h"
#include "sandbox/seccomp_rules.h"

namespace nsbuild::sandbox {
namespace {

using base::JsonError;
using base::JsonObject;
using base::Result;
using base::Status;
using nlohmann::json;

const std::map<std::string, int>& RlimitNames() {
  static const std::map<std::string, int> names = {
      {"as", RLIMIT_AS},         {"core", RLIMIT_CORE},   {"cpu", RLIMIT_CPU},
      {"data", RLIMIT_DATA},     {"fsize", RLIMIT_FSIZE}, {"memlock", RLIMIT_MEMLOCK},
      {"nofile", RLIMIT_NOFILE}, {"nproc", RLIMIT_NPROC}, {"stack", RLIMIT_STACK},
  };
  return names;
}

Status CheckAbsolute(const std::string& path, const std::string& where) {
  if (path.empty() || path[0] != '/')
    return JsonError(where, "'" + path + "' is not an absolute path");
  return {};
}

Status ParseRoBinds(const json& arr, const std::string& where, Policy& p) {
  if (!arr.is_array()) return JsonError(where, "expected an array");
  for (size_t i = 0; i < arr.size(); ++i) {
    std::string at = where + "[" + std::to_string(i) + "]";
    MountOp op;
    op.kind = MountKind::kRoBind;
    if (arr[i].is_string()) {
      op.source = op.target = arr[i].get<std::string>();
    } else {
      JsonObject o(arr[i], at);
      NSB_TRY(o.Valid());
      NSB_TRY(o.Get("src", &op.source, true));
      op.target = op.source;
      NSB_TRY(o.Get("dst", &op.target));
      NSB_TRY(o.Get("optional", &op.optional));
      NSB_TRY(o.Finish());
    }
    NSB_TRY(CheckAbsolute(op.source, at));
    NSB_TRY(CheckAbsolute(op.target, at));
    p.ro_binds.push_back(op);
  }
  return {};
}

Result<rlim_t> RlimitValue(const json& v, const std::string& where) {
  if (v.is_string() && v.get<std::string>() == "unlimited") return RLIM_INFINITY;
  if (v.is_number_unsigned() || (v.is_number_integer() && v.get<int64_t>() >= 0)) {
    return static_cast<rlim_t>(v.get<uint64_t>());
  }
  return JsonError(where, "expected a non-negative integer or \"unlimited\"");
}

Status ParseRlimits(const json& j, const std::string& where, Policy& p) {
  if (!j.is_object()) return JsonError(where, "expected an object");
  for (const auto& [name, value] : j.items()) {
    auto it = RlimitNames().find(name);
    if (it == RlimitNames().end()) return JsonError(where + "." + name, "unknown rlimit");
    NSB_ASSIGN_OR_RETURN(rlim_t v, RlimitValue(value, where + "." + name));
    p.rlimits.push_back(Rlimit{it->second, v, v});
  }
  return {};
}

Status ParseEnvironment(const json& j, const std::string& where, Policy& p) {
  JsonObject o(j, where);
  NSB_TRY(o.Valid());
  NSB_TRY(o.Get("keep", &p.env_keep));
  if (const json* set = o.Child("set")) {
    if (!set->is_object()) return JsonError(where + ".set", "expected an object");
    for (const auto& [k, v] : set->items()) {
      if (!v.is_string()) return JsonError(where + ".set." + k, "expected a string");
      p.env_set.emplace_back(k, v.get<std::string>());
    }
  }
  return o.Finish();
}

Status ParseIds(const json& j, const std::string& where, Policy& p) {
  JsonObject o(j, where);
  NSB_TRY(o.Valid());
  int64_t uid = p.inside_uid, gid = p.inside_gid, base = -1, count = -1;
  NSB_TRY(o.Get("inside_uid", &uid));
  NSB_TRY(o.Get("inside_gid", &gid));
  NSB_TRY(o.Get("host_base", &base));
  NSB_TRY(o.Get("host_count", &count));
  NSB_TRY(o.Finish());
  if (uid < 0 || gid < 0) return JsonError(where, "ids must not be negative");
  p.inside_uid = static_cast<uid_t>(uid);
  p.inside_gid = static_cast<gid_t>(gid);
  if ((base >= 0) != (count >= 0)) return JsonError(where, "host_base and host_count go together");
  if (base >= 0) {
    if (base == 0 || count < 1)
      return JsonError(where, "host range must be unprivileged and non-empty");
    p.host_range = std::make_pair(static_cast<uint32_t>(base), static_cast<uint32_t>(count));
  }
  return {};
}

Status ParseSeccomp(const json& j, const std::string& where, Policy& p) {
  JsonObject o(j, where);
  NSB_TRY(o.Valid());
  NSB_TRY(o.Get("enabled", &p.seccomp.enabled));
  NSB_TRY(o.Get("deny", &p.seccomp.deny_groups));
  NSB_TRY(o.Get("kill_foreign_arch", &p.seccomp.kill_foreign_arch));
  NSB_TRY(o.Finish());
  if (auto s = ValidateSeccompSpec(p.seccomp); !s)
    return JsonError(where + ".deny", s.error().context);
  return {};
}

Result<NetMode> ParseNet(const std::string& s, const std::string& where) {
  if (s == "none") return NetMode::kNone;
  if (s == "loopback") return NetMode::kLoopback;
  if (s == "host") return NetMode::kHost;
  if (s == "distcc") return NetMode::kDistcc;
  return JsonError(where,
                   "expected \"none\", \"loopback\", \"distcc\" or \"host\", got \"" + s + "\"");
}

Status ParsePaths(JsonObject& o, const char* key, std::vector<std::string>* out) {
  NSB_TRY(o.Get(key, out));
  for (size_t i = 0; i < out->size(); ++i) {
    NSB_TRY(CheckAbsolute((*out)[i], o.PathOf(key) + "[" + std::to_string(i) + "]"));
  }
  return {};
}

Status ParseFilesystem(const json& j, const std::string& where, Policy& p) {
  JsonObject o(j, where);
  NSB_TRY(o.Valid());
  if (const json* ro = o.Child("ro_bind")) NSB_TRY(ParseRoBinds(*ro, where + ".ro_bind", p));
  NSB_TRY(ParsePaths(o, "mirror_links", &p.mirror_links));
  NSB_TRY(ParsePaths(o, "tmpfs", &p.tmpfs));
  NSB_TRY(ParsePaths(o, "dirs", &p.dirs));
  NSB_TRY(ParsePaths(o, "hide", &p.hide));
  NSB_TRY(o.Get("proc", &p.proc));
  NSB_TRY(o.Get("dev", &p.dev));
  NSB_TRY(o.Get("noexec_writable", &p.noexec_writable));
  int64_t size = 0;
  NSB_TRY(o.Get("tmpfs_size_mib", &size));
  if (size < 0) return JsonError(o.PathOf("tmpfs_size_mib"), "must not be negative");
  p.tmpfs_size = static_cast<uint64_t>(size) << 20;
  return o.Finish();
}

Status ParseUmask(const std::string& s, const std::string& where, Policy& p) {
  char* end = nullptr;
  unsigned long v = std::strtoul(s.c_str(), &end, 8);
  if (s.empty() || *end || v > 0777)
    return JsonError(where, "expected an octal umask like \"022\"");
  p.umask = static_cast<mode_t>(v);
  return {};
}

}  // namespace

Result<Policy> ParsePolicy(const json& j, const std::string& where) {
  Policy p;
  JsonObject o(j, where);
  NSB_TRY(o.Valid());
  if (const json* fs = o.Child("filesystem"))
    NSB_TRY(ParseFilesystem(*fs, where + ".filesystem", p));
  std::string net;
  NSB_TRY(o.Get("network", &net));
  if (!net.empty()) {
    NSB_ASSIGN_OR_RETURN(p.net, ParseNet(net, o.PathOf("network")));
  }
  std::string distcc_hosts;
  NSB_TRY(o.Get("distcc_hosts", &distcc_hosts));
  if (!distcc_hosts.empty()) {
    if (p.net != NetMode::kDistcc) {
      return JsonError(o.PathOf("distcc_hosts"), "only with \"network\": \"distcc\"");
    }
    NSB_ASSIGN_OR_RETURN(p.distcc_hosts, ParseDistccHosts(distcc_hosts, o.PathOf("distcc_hosts")));
  }
  NSB_TRY(o.Get("hostname", &p.hostname));
  if (const json* ids = o.Child("ids")) NSB_TRY(ParseIds(*ids, where + ".ids", p));
  if (const json* rl = o.Child("rlimits")) NSB_TRY(ParseRlimits(*rl, where + ".rlimits", p));
  if (const json* env = o.Child("environment")) {
    NSB_TRY(ParseEnvironment(*env, where + ".environment", p));
  }
  std::string umask;
  NSB_TRY(o.Get("umask", &umask));
  if (!umask.empty()) NSB_TRY(ParseUmask(umask, o.PathOf("umask"), p));
  int64_t timeout = 0;
  NSB_TRY(o.Get("timeout_seconds", &timeout));
  if (timeout < 0) return JsonError(o.PathOf("timeout_seconds"), "must not be negative");
  p.timeout_seconds = static_cast<double>(timeout);
  if (const json* sc = o.Child("seccomp")) NSB_TRY(ParseSeccomp(*sc, where + ".seccomp", p));
  NSB_TRY(o.Finish());
  return p;
}

}  // namespace nsbuild::sandbox
