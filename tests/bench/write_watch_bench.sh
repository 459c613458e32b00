#!/usr/bin/env bash
# Write-watch benchmark: each recipe built with the write watcher on (B) and
# off (A, --no-watch-writes), interleaved A B per round so machine drift hits
# both alike; prints the median wall times, the ratio B/A (goal <= 1.03) and
# the number of seccomp notifications the watcher handled. Asserts nothing.
#   tests/bench/write_watch_bench.sh [BUILD_DIR] [ROUNDS] [RECIPE...]
# Default recipes: the C-extension example and the real package
# (tests/bench/real_package.sh: brotli from Debian's sources).
set -euo pipefail
source "$(dirname "$0")/common.sh"
bench_args "$@"
if [ ${#recipes[@]} -eq 0 ]; then
  recipes=("$top/examples/cext/recipe.json")
  real=$("$top/tests/bench/real_package.sh") && recipes+=("$real") ||
    echo "(the real package could not be fetched; cext only)"
fi

timed() {  # FILE CMD... : appends the wall time; a failed build aborts
  local out=$1 t0 t1
  shift
  t0=$(now)
  "$@" >/dev/null 2>"$scratch/err" || { echo "failed: $*" >&2; tail -5 "$scratch/err" >&2; exit 1; }
  t1=$(now)
  awk "BEGIN {print $t1 - $t0}" >>"$out"
}

for recipe in "${recipes[@]}"; do
  name=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["name"])' "$recipe")
  echo "== $name: $rounds rounds, A = --no-watch-writes, B = watched (default)"
  : >"$scratch/a"; : >"$scratch/b"
  for ((r = 1; r <= rounds; r++)); do
    timed "$scratch/a" "$nsbuild" -q build "$recipe" --work-dir "$scratch/w" --no-watch-writes
    timed "$scratch/b" "$nsbuild" -q build "$recipe" --work-dir "$scratch/w" --report "$scratch/report.json"
  done
  a=$(median <"$scratch/a"); b=$(median <"$scratch/b")
  read -r notes denied < <(python3 -c 'import json,sys; w=json.load(open(sys.argv[1]))["writes"]; print(w["notifications"], w["violations"])' "$scratch/report.json")
  printf '  median wall: off %.2fs   on %.2fs\n' "$a" "$b"
  printf '  watched / unwatched = %.3f (goal <= 1.03); %s notifications handled, %s denied\n' \
    "$(awk "BEGIN {print $b / $a}")" "$notes" "$denied"
done
