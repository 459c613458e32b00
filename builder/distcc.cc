#include "builder/distcc.h"

#include <fcntl.h>
#include <unistd.h>

#include <sstream>

#include "base/fs.h"

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
                                                                   const std::string& path,
                                                                   const std::string& inside_dir) {
  const std::string& dir = inside_dir;
  return {
      {"PATH", std::string(kDistccMasquerade) + ":" + path},
      {"DISTCC_HOSTS", InsideHostsVariable(c)},
      {"DISTCC_DIR", dir},
      {"DISTCC_LOG", dir + "/" + kDistccLogName},
      {"DISTCC_FALLBACK", c.fallback ? "1" : "0"},
  };
}

void CountDistccLogLine(std::string_view line, DistccCounts& counts) {
  // "distcc[PID] compile FILE on HOST completed ok"
  constexpr std::string_view kDone = " completed ok";
  auto start = line.find("] compile ");
  if (start == std::string_view::npos || !line.ends_with(kDone)) return;
  std::string_view rest = line.substr(start + 10, line.size() - start - 10 - kDone.size());
  auto on = rest.rfind(" on ");
  if (on == std::string_view::npos) return;
  std::string_view file = rest.substr(0, on), host = rest.substr(on + 4);
  if (file == "(null)" || file.empty()) return;
  if (host == "localhost") {
    counts.local++;
  } else {
    counts.remote++;
  }
}

DistccCounts CountDistccLog(const std::string& log_text) {
  DistccCounts counts;
  std::istringstream in(log_text);
  std::string line;
  while (std::getline(in, line)) CountDistccLogLine(line, counts);
  return counts;
}

base::Result<DistccCounts> CountDistccLogFile(const std::string& host_dir) {
  // The directory is ours; everything in it is the sandboxes'. Opened by fd,
  // the log is read as a regular file only, line by line.
  base::UniqueFd dir(::open(host_dir.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dir) return base::ErrnoError("open " + host_dir);
  DistccCounts counts;
  NSB_TRY(base::ForEachLine(dir, kDistccLogName, kMaxDistccLogLine, kMaxDistccLogBytes,
                            [&](std::string_view line) { CountDistccLogLine(line, counts); }));
  return counts;
}

std::string DistccStatusLine(const DistccSummary& s) {
  uint64_t total = s.compiles.remote + s.compiles.local;
  std::string line = "distcc: " + std::to_string(s.compiles.remote) + " of " +
                     std::to_string(total) + " compile jobs remote, " +
                     std::to_string(s.compiles.local) + " local; " + std::to_string(s.connections) +
                     " daemon connections";
  if (s.connection_failures) {
    line += ", " + std::to_string(s.connection_failures) + " could not reach their daemon";
  }
  return line;
}

DistccSummary SummarizeDistcc(const DistccConfig& c, const RunSummary& summary) {
  DistccSummary d;
  d.hosts = InsideHostsVariable(c);
  if (auto counts = CountDistccLogFile(c.host_dir)) d.compiles = *counts;
  for (const auto& n : summary.nodes) {
    for (uint64_t k : n.exit.forwarded) d.connections += k;
    d.connection_failures += n.exit.forward_failures;
  }
  return d;
}

}  // namespace nsbuild::builder
