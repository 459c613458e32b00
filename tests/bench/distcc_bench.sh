#!/usr/bin/env bash
# distcc benchmark: each recipe built for all its implementations
#   A = nsbuild build (local compiles only)
#   B = nsbuild build --distcc 127.0.0.1:PORT/SLOTS, to a distccd this script
#       starts on a free loopback port of this machine,
# interleaved A B per round so machine drift hits both alike; prints the
# median wall times, B/A, and the share of compile jobs that went remote in
# B (from the report, which counts distcc's own log lines). One machine gives
# no speedup: the daemon competes for the same cores. The point is that the
# relay works and what it costs. Prints numbers; asserts nothing.
#   tests/bench/distcc_bench.sh [BUILD_DIR] [ROUNDS] [RECIPE...]
set -euo pipefail
source "$(dirname "$0")/common.sh"
bench_args "${1:-}" "${2:-3}" "${@:3}"
if [ ${#recipes[@]} -eq 0 ]; then
  recipes=("$top/examples/cext/recipe.json" "$top/examples/cmany/recipe.json")
  real=$("$top/tests/bench/real_package.sh") && recipes+=("$real") ||
    echo "(the real package could not be fetched; examples only)"
fi
command -v distccd >/dev/null || { echo "distcc_bench: distccd not installed (Debian package distcc)" >&2; exit 1; }
slots=$(nproc)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
: >"$scratch/distccd.log" && chmod 0666 "$scratch/distccd.log"
setsid distccd --daemon --no-detach --listen 127.0.0.1 --port "$port" --allow 127.0.0.0/8 \
  --jobs "$slots" --log-file "$scratch/distccd.log" &
daemon=$!
cleanup() { kill -TERM -- "-$daemon" 2>/dev/null || true; wait "$daemon" 2>/dev/null || true
            chmod -R u+rwx "$scratch"; rm -rf "$scratch"; }
trap cleanup EXIT
for _ in $(seq 50); do python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null && break; sleep 0.1; done

field() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["distcc"]; print(d[sys.argv[2]])' "$1" "$2"; }

for recipe in "${recipes[@]}"; do
  name=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["name"])' "$recipe")
  echo "== $name: $rounds rounds, daemon 127.0.0.1:$port/$slots (A = local, B = --distcc)"
  : >"$scratch/a"; : >"$scratch/b"; : >"$scratch/share"
  for ((r = 1; r <= rounds; r++)); do
    t0=$(now); "$nsbuild" -q build "$recipe" --work-dir "$scratch/w" >/dev/null 2>&1; t1=$(now)
    awk "BEGIN {print $t1 - $t0}" >>"$scratch/a"
    t0=$(now)
    "$nsbuild" -q build "$recipe" --work-dir "$scratch/w" --distcc "127.0.0.1:$port/$slots" \
      --report "$scratch/report.json" >/dev/null 2>&1
    t1=$(now)
    awk "BEGIN {print $t1 - $t0}" >>"$scratch/b"
    remote=$(field "$scratch/report.json" remote_compiles); local_=$(field "$scratch/report.json" local_compiles)
    echo "$remote $local_" >>"$scratch/share"
  done
  a=$(median <"$scratch/a"); b=$(median <"$scratch/b")
  read -r remote local_ < <(awk '{r += $1; l += $2} END {print r, l}' "$scratch/share")
  jobs=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["jobs"])' "$scratch/report.json")
  printf '  median wall: local %.2fs   distcc %.2fs   distcc/local = %.3f\n' "$a" "$b" "$(awk "BEGIN {print $b / $a}")"
  printf '  compile jobs over all distcc rounds: %d remote, %d local (%.0f%% remote); -j%s\n' \
    "$remote" "$local_" "$(awk "BEGIN {t = $remote + $local_; print t ? 100 * $remote / t : 0}")" "$jobs"
done
