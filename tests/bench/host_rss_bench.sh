#!/usr/bin/env bash
# nsbuild's own peak RSS against a hostile build (issue: memory an attacker
# sizes). Each case runs nsbuild once and prints its peak RSS (getrusage of
# the nsbuild process; the sandboxes are not its children) and wall time:
#   flood-run     nsbuild run --report-writes: 200k denied opens, long paths,
#                 a 100 KB command line
#   flood-build   the same as a build's compile phase (the write summary,
#                 the report and the log all hold the bounded records)
#   huge-log      a build phase printing 1 GiB without a newline, then failing
#                 (the log tail is read from the end)
# Prints; asserts nothing (the security suite asserts a < 64 MiB bound).
#   tests/bench/host_rss_bench.sh [BUILD_DIR] [WRITES] [LOG_MIB]
set -euo pipefail
source "$(dirname "$0")/common.sh"
bench_args "${1:-}" 1
writes=${2:-200000}
log_mib=${3:-1024}

# Runs argv, prints "NAME peak RSS KiB, wall s, exit N". wait4's figure is
# the largest of nsbuild and the helpers it waited for (a build's source
# copy); with REPORT (a build's --report file) nsbuild's own peak is printed
# too (builder_max_rss_kib, getrusage RUSAGE_SELF).
measure() {
  local name=$1 report=$2
  shift 2
  python3 - "$name" "$report" "$@" <<'PY'
import json, os, sys, time
name, report, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
t0 = time.monotonic()
pid = os.fork()
if pid == 0:
    fd = os.open(os.devnull, os.O_WRONLY)
    os.dup2(fd, 1); os.dup2(fd, 2)
    os.execv(argv[0], argv)
_, status, ru = os.wait4(pid, 0)
own = f"   nsbuild alone {json.load(open(report))['builder_max_rss_kib']:6d} KiB" if report else ""
print(f"{name:12s} peak RSS {ru.ru_maxrss:7d} KiB{own}   wall {time.monotonic() - t0:6.1f} s   "
      f"exit {os.waitstatus_to_exitcode(status)}")
PY
}

flood="import os
for i in range($writes):
    try:
        os.close(os.open('/usr/lib/flood-%d-%s' % (i, 'd' * 200), os.O_WRONLY | os.O_CREAT, 0o644))
    except PermissionError:
        pass"
echo "== nsbuild's peak RSS ($writes denied writes, a $log_mib MiB log)"
measure flood-run "" "$nsbuild" run --report-writes -- /usr/bin/python3 -c "$flood" "$(head -c 100000 /dev/zero | tr '\0' A)"

mkdir -p "$scratch/src"
printf '%s\n' "$flood" >"$scratch/src/flood.py"
cat >"$scratch/flood.json" <<JSON
{"name": "flood", "version": "1", "source": "src", "implementations": ["a"],
 "define_implementations": {"a": {"program": "/bin/sh"}},
 "phases": {"compile": "python3 ./flood.py"}}
JSON
measure flood-build "$scratch/r1.json" "$nsbuild" build "$scratch/flood.json" --work-dir "$scratch/w1" \
  --report "$scratch/r1.json"

cat >"$scratch/log.json" <<JSON
{"name": "log", "version": "1", "source": "src", "implementations": ["a"],
 "define_implementations": {"a": {"program": "/bin/sh"}},
 "phases": {"compile": "head -c $((log_mib << 20)) /dev/zero | tr '\\\\0' x; exit 1"}}
JSON
measure huge-log "$scratch/r2.json" "$nsbuild" build "$scratch/log.json" --work-dir "$scratch/w2" \
  --report "$scratch/r2.json"
echo "log written: $(stat -c %s "$scratch/w2/logs/a-compile.log") bytes"
