#!/usr/bin/env bash
# The seed's package at the critical path (issue 16): lxml 4.9.2, Debian's
# source, for python3.11 and pypy3, built by nsbuild with -jN (N = CPUs) and
# merged into a destination, against two anchors measured in the same run,
# both implementations built one after another without a sandbox
# (unsandboxed_build.py --sequential, the same phase commands):
#   B: JOBS=N, each implementation's build already runs N compilers (the
#      stricter anchor: no schedule on N CPUs beats its CPU time / N);
#   C: JOBS=1, one compile at a time (the kind of build issue 16's 87.9 s
#      anchor was).
# Interleaved, the order rotating each round (A B C, B C A, C A B); prints the
# medians, both ratios (goal <= 0.55),
# and from the last nsbuild report the bound (max(CPU / N, longest chain)),
# the jobserver's peak tokens and the processes and compilers it counted,
# with the load average before and after. Prints numbers; asserts nothing.
#   tests/bench/lxml_bench.sh [BUILD_DIR] [ROUNDS]
set -euo pipefail
source "$(dirname "$0")/common.sh"
bench_args "${1:-}" "${2:-3}"
[ -x "$nsbuild" ] || { echo "lxml_bench: no nsbuild at $nsbuild (build first)" >&2; exit 2; }
recipe=$("$top/tests/bench/real_package.sh" "${NSBUILD_BENCH_CACHE:-/var/cache/nsbuild-bench}" lxml)
jobs=$(nproc)
impls=(python3.11 pypy3)
echo "== lxml 4.9.2: ${impls[*]} on $jobs CPU(s), $rounds rounds; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
# One unmeasured nsbuild build first: it fills the work dir's history, so
# the measured ones start the longest chain first (as a packager's second
# build would).
"$nsbuild" -q build "$recipe" -j"$jobs" --work-dir "$scratch/w" >/dev/null 2>&1 ||
  echo "(warm-up build failed: see $scratch/w/logs)"
: >"$scratch/a"; : >"$scratch/b"; : >"$scratch/c"
run_nsbuild() {
  rm -rf "$scratch/dest"
  local t0 t1
  t0=$(now)
  "$nsbuild" -q build "$recipe" -j"$jobs" --work-dir "$scratch/w" --dest "$scratch/dest" \
    --report "$scratch/report.json" >/dev/null 2>&1 || echo "  round $r: nsbuild failed"
  t1=$(now)
  awk "BEGIN {print $t1 - $t0}" >>"$scratch/a"
}
sequential() {  # sequential JOBS FILE
  local t0 t1
  t0=$(now)
  python3 "$top/tests/bench/unsandboxed_build.py" --sequential "$recipe" "$scratch/u" "$1" "${impls[@]}" ||
    echo "  round $r: the unsandboxed build (JOBS=$1) failed"
  t1=$(now)
  awk "BEGIN {print $t1 - $t0}" >>"$2"
}
run_sequential() { sequential "$jobs" "$scratch/b"; }
run_one_at_a_time() { sequential 1 "$scratch/c"; }
# The order rotates: on a machine whose load drifts, a run always in the
# same place of a round would always have the same conditions.
order=(run_nsbuild run_sequential run_one_at_a_time)
for ((r = 1; r <= rounds; r++)); do
  for ((i = 0; i < 3; i++)); do "${order[(r - 1 + i) % 3]}"; done
  printf '  round %d: nsbuild %.1fs, sequential JOBS=%d %.1fs, JOBS=1 %.1fs (load %s)\n' "$r" \
    "$(tail -1 "$scratch/a")" "$jobs" "$(tail -1 "$scratch/b")" "$(tail -1 "$scratch/c")" \
    "$(cut -d' ' -f1 /proc/loadavg)"
done
a=$(median <"$scratch/a"); b=$(median <"$scratch/b"); c=$(median <"$scratch/c")
printf '  median wall: nsbuild -j%d merged %.2fs   unsandboxed sequential JOBS=%d %.2fs, JOBS=1 %.2fs\n' \
  "$jobs" "$a" "$jobs" "$b" "$c"
printf '  nsbuild / sequential JOBS=%d = %.3f   nsbuild / sequential JOBS=1 = %.3f\n' "$jobs" \
  "$(awk "BEGIN {print $a / $b}")" "$(awk "BEGIN {print $a / $c}")"
echo "  (goal <= 0.55; issue 16 measured 0.621 against a 87.9 s sequential build)"
python3 - "$scratch/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
b, j = r["bound"], r["jobserver"]
print("  last nsbuild run: wall %.1fs; bound %.1fs = max(CPU %.1fs / %d = %.1fs, longest chain %.1fs: %s);"
      " the bound is %.0f%% of the wall"
      % (r["wall_seconds"], b["seconds"], b["cpu_seconds"], r["jobs"], b["cpu_per_job_seconds"],
         b["longest_chain_seconds"], " -> ".join(b["longest_chain"]), 100 * b["bound_over_wall"]))
print("  jobserver peak %d/%d tokens; counted peak %d compiler(s), %d process(es)"
      % (j["peak_tokens_in_use"], j["jobs"], j["peak_compilers"], j["peak_processes"]))
for s in r["sub_phases"]:
    if "start_seconds" in s:
        print("    %-10s %-8s %6.1fs .. %6.1fs  cpu %6.1fs" % (s["target"], s["phase"], s["start_seconds"],
              s["end_seconds"], s["user_seconds"] + s["sys_seconds"]))
PY
echo "  load after: $(cut -d' ' -f1-3 /proc/loadavg)"
