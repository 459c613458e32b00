#include "verify/variation.h"

#include <glob.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>

#include "verify/cause_groups.h"
#include "verify/disorder_view.h"
#include "verify/find_program.h"

namespace nsbuild::verify {
namespace {

constexpr unsigned long kAddrNoRandomize = 0x0040000;
constexpr unsigned long kUname26 = 0x0020000;

// More than a year and not a whole number of weeks: the year, month, day
// and weekday all differ from the control's.
constexpr const char* kFaketimeOffset = "+397d";

int UsableCpus() {
  cpu_set_t set;
  return sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
}

// Only the wall clock moves: monotonic time stays real (make and timeouts
// measure with it), and stat() is left alone, so file times the build reads
// (a .pyc's source mtime) do not shift and pass for a time dependency.
void AddFaketime(const std::string& offset, std::vector<std::pair<std::string, std::string>>& env) {
  std::string lib = LibFaketimePath();
  auto it =
      std::find_if(env.begin(), env.end(), [](const auto& e) { return e.first == "LD_PRELOAD"; });
  if (it == env.end()) {
    env.emplace_back("LD_PRELOAD", lib);
  } else {
    it->second = it->second.empty() ? lib : lib + ":" + it->second;
  }
  env.emplace_back("FAKETIME", offset);
  env.emplace_back("FAKETIME_DONT_FAKE_MONOTONIC", "1");
  env.emplace_back("NO_FAKE_STAT", "1");
}

}  // namespace

// Debian puts it under the multiarch directory, other distributions under
// /usr/lib or /usr/lib64; the sandbox sees /usr at the same path.
std::string LibFaketimePath() {
  for (const char* pattern :
       {"/usr/lib/*/faketime/libfaketime.so.1", "/usr/lib/faketime/libfaketime.so.1",
        "/usr/lib64/faketime/libfaketime.so.1"}) {
    glob_t g = {};
    bool found = ::glob(pattern, 0, nullptr, &g) == 0 && g.gl_pathc > 0;
    std::string path = found ? g.gl_pathv[0] : "";
    ::globfree(&g);
    if (found) return path;
  }
  return "";
}

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
      {"fileordering", "directory read order of the source: reversed by disorderfs (FUSE)"},
      {"time", "wall-clock time 397 days ahead (libfaketime preloaded)"},
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
    std::string name =
        CanonicalFactorName((item[0] == '-' || item[0] == '+') ? item.substr(1) : item);
    std::vector<std::string> names;
    if (name == "all") {
      for (const auto& f : VariationFactors()) names.push_back(f.name);
    } else if (std::none_of(VariationFactors().begin(), VariationFactors().end(),
                            [&](const VariationFactor& f) { return name == f.name; })) {
      std::string known = "all";
      for (const auto& f : VariationFactors()) known += std::string(", ") + f.name;
      return base::PlainError("--variations: unknown variation '" + name + "' (known: " + known +
                              ")");
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
  if (factor == "fileordering") return DisorderView::Unavailable();
  if (factor == "time") {
    return LibFaketimePath().empty() ? "libfaketime is not installed (Debian package faketime)"
                                     : "";
  }
  if (factor == "user_group" && ::geteuid() != 0) {
    return "an unprivileged caller maps a single id; there is no other uid to use";
  }
  if (factor == "num_cpus" && UsableCpus() < 2) return "only one CPU: nothing to vary";
  return "";
}

Variation ControlVariation() {
  Variation v;
  v.env = {{"TZ", "UTC"},      {"LANG", "C.UTF-8"}, {"LC_ALL", "C.UTF-8"},
           {"LANGUAGE", "en"}, {"USER", "root"},    {"LOGNAME", "root"}};
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
    if (f == "fileordering") v.disorder_source = true;
    if (f == "time") v.faketime = kFaketimeOffset;
  }
  return v;
}

builder::InsideLayout LayoutOf(const Variation& v) {
  builder::InsideLayout layout;
  layout.root = v.inside_root;
  layout.home = v.home;
  return layout;
}

void ApplyVariation(const Variation& v, sandbox::RunRequest& req) {
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
  if (!v.faketime.empty()) AddFaketime(v.faketime, req.setenv);
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

}  // namespace nsbuild::verify
