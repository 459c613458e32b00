// Builds through distcc (`nsbuild build --distcc HOSTS`, or a policy with
// "network": "distcc"): every sub-phase's sandbox gets the "distcc" network
// (sandbox/forward.h: the i-th daemon appears inside as 127.0.0.(i+2)), and
// its environment makes compilers go through distcc:
//
//   PATH            /usr/lib/distcc first (distcc's masquerade links: gcc,
//                   cc, x86_64-linux-gnu-gcc, ... all run distcc)
//   DISTCC_HOSTS    "--localslots=C --localslots_cpp=C" + the inside
//                   addresses with each host's /LIMIT and options kept
//   DISTCC_DIR      ROOT/distcc (inside_layout.h), one host dir (WORK/distcc) bound
//                   into every sandbox: distcc's slot locks live there, so
//                   the limits hold across every implementation at once
//   DISTCC_LOG      ROOT/distcc/distcc.log, what the counts are read from
//   DISTCC_FALLBACK 0 under `nsbuild verify` (a broken daemon fails the
//                   build instead of quietly turning into a local one)
//
// The jobserver is sized to the local CPUs plus the remote slots, so make
// starts enough jobs to keep the daemons busy; the local part of each job
// (preprocessing, and whatever distcc runs locally such as links) stays
// limited to the local CPUs by distcc's own --localslots/--localslots_cpp
// locks in the shared DISTCC_DIR.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "builder/results.h"
#include "sandbox/distcc_hosts.h"

namespace nsbuild::builder {

inline constexpr const char* kDistccMasquerade = "/usr/lib/distcc";
inline constexpr const char* kDistccLogName = "distcc.log";

struct DistccConfig {
  std::vector<sandbox::DistccHost> hosts;
  int local_cpus = 1;
  bool fallback = true;  // DISTCC_FALLBACK
  std::string host_dir;  // WORK/distcc
};

// distcc and its masquerade directory must be installed on this host (the
// sandbox sees the host's /usr): otherwise one clear error.
base::Status CheckDistccInstalled();

// What DISTCC_HOSTS says inside the sandboxes.
std::string InsideHostsVariable(const DistccConfig& c);

// The variables above, in the order they are set (after the standard ones;
// `path` is the phase's PATH without distcc; `inside_dir` where the shared
// directory appears, InsideLayout::DistccDir()).
std::vector<std::pair<std::string, std::string>> DistccEnvironment(const DistccConfig& c,
                                                                   const std::string& path,
                                                                   const std::string& inside_dir);

// Compile jobs that finished, counted from distcc's log: one "compile FILE
// on HOST completed ok" line per job distcc ran, HOST "localhost" for a
// local run (fallback included), a daemon otherwise. Links and other
// non-compile calls (FILE "(null)") are not counted.
struct DistccCounts {
  uint64_t remote = 0;
  uint64_t local = 0;
};
DistccCounts CountDistccLog(const std::string& log_text);
void CountDistccLogLine(std::string_view line, DistccCounts& counts);
// The same from HOST_DIR/distcc.log, a file every sandbox can write: read as
// a regular file only (no symlink, no fifo), streamed line by line, each
// line cut at kMaxDistccLogLine and at most kMaxDistccLogBytes in all.
inline constexpr size_t kMaxDistccLogLine = 4096;
inline constexpr uint64_t kMaxDistccLogBytes = uint64_t{1} << 30;
base::Result<DistccCounts> CountDistccLogFile(const std::string& host_dir);

// What the report and the last status line say about a distcc build.
struct DistccSummary {
  std::string hosts;                 // DISTCC_HOSTS inside
  DistccCounts compiles;             // from distcc's log
  uint64_t connections = 0;          // the relay's count: connections that reached a daemon
  uint64_t connection_failures = 0;  // accepted, but the daemon was unreachable
};
std::string DistccStatusLine(const DistccSummary& s);
// The counts after a run: distcc's log for jobs, the relay for connections.
DistccSummary SummarizeDistcc(const DistccConfig& c, const RunSummary& summary);

}  // namespace nsbuild::builder
