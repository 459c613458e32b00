#include "builder/variation.h"

#include <sched.h>
#include <unistd.h>

#include <algorithm>

#include "builder/phase_request.h"

namespace nsbuild::builder {
namespace {

constexpr unsigned long kAddrNoRandomize = 0x0040000;
constexpr unsigned long kUname26 = 0x0020000;

bool HasProgram(const char* name) {
  for (const char* dir : {"/usr/bin/", "/bin/", "/usr/local/bin/"}) {
    if (::access((std::string(dir) + name).c_str(), X_OK) == 0) return true;
  }
  return false;
}

int UsableCpus() {
  cpu_set_t set;
  return sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
}

std::string Replace(const std::string& s, const std::string& from, const std::string& to) {
  if (from == to) return s;
  std::string out;
  size_t pos = 0, hit;
  while ((hit = s.find(from, pos)) != std::string::npos) {
    out += s.substr(pos, hit - pos) + to;
    pos = hit + from.size();
  }
  return out + s.substr(pos);
}

}  // namespace

const std::vector<VariationFactor>& VariationFactors() {
  static const std::vector<VariationFactor> f = {
      {"build_path", "source and build directories at another path"},
      {"hostname", "host and domain name"},
      {"user_group", "uid and gid inside, USER and LOGNAME"},
      {"home", "HOME at another path"},
      {"umask", "umask 0002 instead of 0022"},
      {"timezone", "TZ far from UTC"},
      {"locales", "LANG, LC_ALL and LANGUAGE"},
      {"exec_path", "an extra directory at the end of PATH"},
      {"environment", "the order of environment variables"},
      {"num_cpus", "one CPU (affinity) and -j1 instead of all"},
      {"aslr", "address space randomisation on (pinned off in the control)"},
      {"kernel", "UNAME26: a 2.6-style kernel version string"},
      {"fileordering", "directory read order (needs disorderfs)"},
      {"time", "wall-clock time (needs libfaketime)"},
  };
  return f;
}

base::Result<std::vector<std::string>> ParseVariations(const std::string& spec) {
  std::vector<std::string> chosen;
  size_t start = 0;
  while (start <= spec.size()) {
    size_t end = spec.find(',', start);
    if (end == std::string::npos) end = spec.size();
    std::string item = spec.substr(start, end - start);
    start = end + 1;
    if (item.empty()) continue;
    bool remove = item[0] == '-';
    std::string name = (item[0] == '-' || item[0] == '+') ? item.substr(1) : item;
    std::vector<std::string> names;
    if (name == "all") {
      for (const auto& f : VariationFactors()) names.push_back(f.name);
    } else if (std::none_of(VariationFactors().begin(), VariationFactors().end(),
                            [&](const VariationFactor& f) { return name == f.name; })) {
      std::string known = "all";
      for (const auto& f : VariationFactors()) known += std::string(", ") + f.name;
      return base::PlainError("--variations: unknown variation '" + name + "' (known: " + known + ")");
    } else {
      names.push_back(name);
    }
    for (const auto& n : names) {
      auto it = std::find(chosen.begin(), chosen.end(), n);
      if (remove && it != chosen.end()) chosen.erase(it);
      if (!remove && it == chosen.end()) chosen.push_back(n);
    }
  }
  return chosen;
}

std::string Unavailable(const std::string& factor) {
  if (factor == "fileordering") {
    return HasProgram("disorderfs") ? "disorderfs needs FUSE inside the sandbox, not supported yet"
                                    : "disorderfs is not installed";
  }
  if (factor == "time") {
    return HasProgram("faketime") ? "libfaketime is not wired into sub-phases yet"
                                  : "libfaketime (faketime) is not installed";
  }
  if (factor == "user_group" && ::geteuid() != 0) {
    return "an unprivileged caller maps a single id; there is no other uid to use";
  }
  if (factor == "num_cpus" && UsableCpus() < 2) return "only one CPU: nothing to vary";
  return "";
}

Variation ControlVariation() {
  Variation v;
  v.env = {{"TZ", "UTC"}, {"LANG", "C.UTF-8"}, {"LC_ALL", "C.UTF-8"}, {"LANGUAGE", "en"},
           {"USER", "root"}, {"LOGNAME", "root"}};
  v.personality = kAddrNoRandomize;
  return v;
}

Variation VaryFactors(const std::vector<std::string>& factors) {
  Variation v = ControlVariation();
  auto set_env = [&](const std::string& k, const std::string& val) {
    for (auto& [key, value] : v.env) {
      if (key == k) value = val;
    }
  };
  for (const auto& f : factors) {
    if (!Unavailable(f).empty()) continue;
    if (f == "build_path") v.inside_root = "/var/tmp/nsbuild-experiment/build-root";
    if (f == "hostname") {
      v.hostname = "nsbuild-experiment";
      v.domainname = "experiment.invalid";
    }
    if (f == "user_group") {
      v.uid = 1234;
      v.gid = 1234;
      set_env("USER", "builder2");
      set_env("LOGNAME", "builder2");
    }
    if (f == "home") v.home = "/var/tmp/nsbuild-experiment-home";
    if (f == "umask") v.umask = 0002;
    if (f == "timezone") set_env("TZ", "Pacific/Kiritimati");
    if (f == "locales") {
      set_env("LANG", "fr_CH.UTF-8");
      set_env("LC_ALL", "fr_CH.UTF-8");
      set_env("LANGUAGE", "fr_CH:fr");
    }
    if (f == "exec_path") v.path_append = "/var/tmp/nsbuild-experiment/bin";
    if (f == "environment") v.reverse_env = true;
    if (f == "num_cpus") {
      v.cpus = 1;
      v.jobs = 1;
    }
    if (f == "aslr") v.personality &= ~kAddrNoRandomize;
    if (f == "kernel") v.personality |= kUname26;
  }
  return v;
}

void ApplyVariation(const Variation& v, sandbox::RunRequest& req) {
  const std::string from = "/nsbuild";
  const std::string home_from = kInsideHome;
  const std::string home_to = v.home.empty() ? v.inside_root + "/home" : v.home;
  auto move = [&](const std::string& p) {
    if (p == home_from || p.starts_with(home_from + "/")) return home_to + p.substr(home_from.size());
    if (p == from || p.starts_with(from + "/")) return v.inside_root + p.substr(from.size());
    return p;
  };
  for (auto& m : req.mounts) m.target = move(m.target);
  req.cwd = move(req.cwd);
  for (auto& [k, val] : req.setenv) {
    val = Replace(Replace(val, home_from, home_to), from + "/", v.inside_root + "/");
  }
  for (const auto& kv : v.env) {
    auto it = std::find_if(req.setenv.begin(), req.setenv.end(),
                           [&kv](const auto& e) { return e.first == kv.first; });
    if (it != req.setenv.end()) {
      it->second = kv.second;
    } else {
      req.setenv.push_back(kv);
    }
  }
  for (auto& [k, val] : req.setenv) {
    if (k == "PATH" && !v.path_append.empty()) val += ":" + v.path_append;
  }
  if (v.reverse_env) std::reverse(req.setenv.begin(), req.setenv.end());
  req.keep_env_order = true;  // the control keeps its order too: only `environment` changes it
  req.hostname = v.hostname;
  req.domainname = v.domainname;
  if (v.uid) req.inside_uid = *v.uid;
  if (v.gid) req.inside_gid = *v.gid;
  req.umask = v.umask;
  req.cpus = v.cpus;
  req.personality = v.personality;
}

}  // namespace nsbuild::builder
