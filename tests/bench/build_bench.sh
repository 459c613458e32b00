#!/usr/bin/env bash
# Builder benchmark: each example recipe built for all its implementations
#   A = nsbuild build -j1, B = nsbuild build -jN (N = CPUs), C = the same
#   phase commands unsandboxed in parallel (unsandboxed_build.py),
# interleaved A B C per round so machine drift hits all alike; prints the
# median wall times, the ratios B/C (goal <= 1.03) and B/A (goal <= 0.55 with
# two implementations on two cores), and the builder's own max RSS from the
# report (goal <= 16 MiB). Prints numbers; asserts nothing.
#   tests/bench/build_bench.sh [BUILD_DIR] [ROUNDS] [RECIPE...]
# Default recipes: examples/cext, examples/cmany and the real package
# (tests/bench/real_package.sh: brotli from Debian's sources).
set -euo pipefail
source "$(dirname "$0")/common.sh"
bench_args "$@"
if [ ${#recipes[@]} -eq 0 ]; then
  recipes=("$top/examples/cext/recipe.json" "$top/examples/cmany/recipe.json")
  real=$("$top/tests/bench/real_package.sh") && recipes+=("$real") ||
    echo "(the real package could not be fetched; examples only)"
fi
jobs=$(nproc)

# The implementations nsbuild picks for a recipe: its own list, else every
# usable Python; the baseline must build the same set.
impls_of() {
  python3 - "$1" "$nsbuild" <<'PY'
import json, subprocess, sys
recipe = json.load(open(sys.argv[1]))
names = recipe.get("implementations")
if not names:
    found = json.loads(subprocess.check_output([sys.argv[2], "impls", "--json"]))
    names = [i["name"] for i in found if i["usable"]]
print(" ".join(names))
PY
}

for recipe in "${recipes[@]}"; do
  read -r -a impls <<<"$(impls_of "$recipe")"
  name=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["name"])' "$recipe")
  echo "== $name: ${impls[*]} on $jobs CPU(s), $rounds rounds (A = -j1, B = -j$jobs, C = unsandboxed parallel)"
  : >"$scratch/a" ; : >"$scratch/b" ; : >"$scratch/c"
  for ((r = 1; r <= rounds; r++)); do
    t0=$(now); "$nsbuild" -q build "$recipe" -j1 --work-dir "$scratch/w" >/dev/null 2>&1; t1=$(now)
    awk "BEGIN {print $t1 - $t0}" >>"$scratch/a"
    t0=$(now); "$nsbuild" -q build "$recipe" -j"$jobs" --work-dir "$scratch/w" --report "$scratch/report.json" >/dev/null 2>&1; t1=$(now)
    awk "BEGIN {print $t1 - $t0}" >>"$scratch/b"
    t0=$(now); python3 "$top/tests/bench/unsandboxed_build.py" "$recipe" "$scratch/u" "$jobs" "${impls[@]}"; t1=$(now)
    awk "BEGIN {print $t1 - $t0}" >>"$scratch/c"
  done
  a=$(median <"$scratch/a"); b=$(median <"$scratch/b"); c=$(median <"$scratch/c")
  rss=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["builder_max_rss_kib"])' "$scratch/report.json")
  peak=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["jobserver"]["peak_tokens_in_use"])' "$scratch/report.json")
  printf '  median wall: -j1 %.2fs   -j%d %.2fs   unsandboxed %.2fs\n' "$a" "$jobs" "$b" "$c"
  printf '  sandboxed -j%d / unsandboxed = %.3f (goal <= 1.03)\n' "$jobs" "$(awk "BEGIN {print $b / $c}")"
  printf '  -j%d / -j1 = %.3f (goal <= 0.55 for 2 implementations on 2 cores)\n' "$jobs" "$(awk "BEGIN {print $b / $a}")"
  printf '  builder max RSS %d KiB (goal <= 16384); jobserver peak %s/%d\n' "$rss" "$peak" "$jobs"
done
