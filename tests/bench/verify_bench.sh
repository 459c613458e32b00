#!/usr/bin/env bash
# Reproducibility check benchmark: `nsbuild verify` on examples/cext against
# reprotest (Debian package) on the same build command, in reprotest's `null`
# virtual server (no VM: it varies the environment with unshare, setarch,
# disorderfs and faketime itself, which needs root). Both vary the factors
# they share; both attribute with one-factor rebuilds (reprotest: --auto-build).
# Prints each tool's wall time and what it found; asserts nothing. The
# machine may be shared, so single runs are noisy: ROUNDS repeats each.
#   tests/bench/verify_bench.sh [BUILD_DIR] [ROUNDS] [IMPL]
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$top/build}
rounds=${2:-1}
impl=${3:-python3}
nsbuild=$build/bin/nsbuild
scratch=$(mktemp -d /tmp/nsbuild-verify-bench.XXXXXX)
chmod 0755 "$scratch"
trap '[ -n "${KEEP:-}" ] || { chmod -R u+rwx "$scratch"; rm -rf "$scratch"; }' EXIT

now() { date +%s.%N; }
# Factors both tools vary (reprotest's names where they differ: domain_host
# for hostname, home for home, exec_path, ...). user_group is left out:
# reprotest's null server needs a list of spare users for it.
shared=(build_path hostname home umask timezone locales exec_path environment num_cpus aslr kernel fileordering time)
nsb_variations=$(IFS=,; echo "-all,${shared[*]/#/+}")
rp_shared=("${shared[@]/hostname/domain_host}")
rp_variations=$(IFS=,; echo "-all,${rp_shared[*]/#/+}")

# Both run the same build command, the wheel build of the recipe's compile
# phase, and compare its output (nsbuild: the wheel put in the image).
recipe=$scratch/recipe.json
cat >"$recipe" <<EOF
{"name": "fastsum", "version": "1.0", "source": "src",
 "phases": {"compile": "\$PYTHON -m build --wheel --no-isolation --outdir \$D/dist ."}}
EOF

echo "== examples/cext wheel build ($impl), $rounds round(s), $(nproc) CPU(s); machine shared: timings are noisy"
echo "-- nsbuild verify --variations $nsb_variations"
for ((r = 1; r <= rounds; r++)); do
  t0=$(now)
  "$nsbuild" verify "$recipe" --source "$top/examples/cext/src" --impl "$impl" \
    --variations "$nsb_variations" --work-dir "$scratch/nsb" \
    --report "$scratch/nsb.json" >"$scratch/nsb.out" 2>"$scratch/nsb.err"
  rc=$?
  t1=$(now)
  printf '  round %d: %.2fs wall, exit %d\n' "$r" "$(awk "BEGIN {print $t1 - $t0}")" "$rc"
done
# What it found: per cause, how many paths it changes.
python3 - "$scratch/nsb.json" <<'PY' || tail -5 "$scratch/nsb.err" | sed 's/^/    /'
import collections, json, sys
r = json.load(open(sys.argv[1]))
if r["reproducible"]:
    print("    reproducible:", ", ".join(f"{t} {d[:16]}" for t, d in r["digests"].items()))
by_cause = collections.Counter(c for d in r["differences"] for c in (d["causes"] or ["(combination)"]))
for cause, n in by_cause.most_common():
    print(f"    {cause}: changes {n} path(s)")
print(f"    {len(r['differences'])} differing path(s); skipped: {', '.join(r['skipped']) or 'none'}; "
      f"diffoscope reports: {sum('diffoscope' in d for d in r['differences'])}; "
      f"peak jobs {r['peak_jobs_in_use']}/{r['jobs']}")
PY

echo "-- reprotest --auto-build --variations $rp_variations ... -- null"
if ! command -v reprotest >/dev/null; then
  echo "  reprotest is not installed (Debian package reprotest): not run"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "  reprotest's null server varies hostname, fileordering and kernel with unshare/mount as root: run this as root"
  exit 0
fi
# The same wheel build as the recipe's compile phase, on a copy of the source
# (reprotest builds in copies of the tree it is given).
cp -a "$top/examples/cext/src" "$scratch/src"
# The interpreter nsbuild builds with (not whatever PATH finds first).
pyprog=$("$nsbuild" impls --json | python3 -c 'import json, sys
print(next(i["program"] for i in json.load(sys.stdin) if i["name"] == sys.argv[1]))' "$impl")
for ((r = 1; r <= rounds; r++)); do
  rm -rf "$scratch/rp-store"
  t0=$(now)
  (cd "$scratch/src" && SOURCE_DATE_EPOCH=$(stat -c %Y "$scratch/src") reprotest --auto-build \
    --variations="$rp_variations" --store-dir "$scratch/rp-store" \
    -c "$pyprog -m build --wheel --no-isolation --outdir dist ." . 'dist/*.whl' -- null) \
    >"$scratch/rp.out" 2>&1
  rc=$?
  t1=$(now)
  printf '  round %d: %.2fs wall, exit %d\n' "$r" "$(awk "BEGIN {print $t1 - $t0}")" "$rc"
done
# Its verdict: the variations it blames (the line after "Observed"), or
# its reproducible/failed line.
grep -E -A1 '^Observed unreproducibility' "$scratch/rp.out" | sed 's/^/    /'
grep -E -i '^reprotest: |reproduction successful|^.*Error:' "$scratch/rp.out" | tail -3 | sed 's/^/    /'
[ -s "$scratch/rp.out" ] || echo "    (no output)"
echo "  (reprotest's full output was $(wc -l <"$scratch/rp.out") lines)"
