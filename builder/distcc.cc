#include "builder/distcc.h"

#include <unistd.h>

#include <sstream>

namespace nsbuild::builder {

base::Status CheckDistccInstalled() {
  std::string masq = std::string(kDistccMasquerade) + "/gcc";
  if (access("/usr/bin/distcc", X_OK) != 0 || access(masq.c_str(), X_OK) != 0) {
    return base::PlainError(
        "--distcc: distcc is not installed here (/usr/bin/distcc and /usr/lib/distcc/gcc; "
        "Debian package distcc)");
  }
  return {};
}

std::string InsideHostsVariable(const DistccConfig& c) {
  std::string n = std::to_string(c.local_cpus);
  return "--localslots=" + n + " --localslots_cpp=" + n + " " + sandbox::InsideDistccHosts(c.hosts);
}

std::vector<std::pair<std::string, std::string>> DistccEnvironment(const DistccConfig& c,
                                                                   const std::string& path) {
  std::string dir = kInsideDistccDir;
  return {
      {"PATH", std::string(kDistccMasquerade) + ":" + path},
      {"DISTCC_HOSTS", InsideHostsVariable(c)},
      {"DISTCC_DIR", dir},
      {"DISTCC_LOG", dir + "/" + kDistccLogName},
      {"DISTCC_FALLBACK", c.fallback ? "1" : "0"},
  };
}

DistccCounts CountDistccLog(const std::string& log_text) {
  DistccCounts counts;
  std::istringstream in(log_text);
  std::string line;
  const std::string kDone = " completed ok";
  while (std::getline(in, line)) {
    // "distcc[PID] compile FILE on HOST completed ok"
    auto start = line.find("] compile ");
    if (start == std::string::npos || !line.ends_with(kDone)) continue;
    std::string rest = line.substr(start + 10, line.size() - start - 10 - kDone.size());
    auto on = rest.rfind(" on ");
    if (on == std::string::npos) continue;
    std::string file = rest.substr(0, on), host = rest.substr(on + 4);
    if (file == "(null)" || file.empty()) continue;
    if (host == "localhost") {
      counts.local++;
    } else {
      counts.remote++;
    }
  }
  return counts;
}

std::string DistccStatusLine(const DistccSummary& s) {
  uint64_t total = s.compiles.remote + s.compiles.local;
  std::string line = "distcc: " + std::to_string(s.compiles.remote) + " of " + std::to_string(total) +
                     " compile jobs remote, " + std::to_string(s.compiles.local) + " local; " +
                     std::to_string(s.connections) + " daemon connections";
  if (s.connection_failures) {
    line += ", " + std::to_string(s.connection_failures) + " could not reach their daemon";
  }
  return line;
}

}  // namespace nsbuild::builder
