#!/bin/bash
# Merge benchmark: `nsbuild merge` (seal, checks, journal, database with
# sha256) against `cp --archive --link --no-clobber` of the same image into
# an empty destination. A/B interleaved, a fresh (cold) destination for every
# run, medians and the ratio printed; also the no-hash figure and how the
# merge time grows with the file count. Printed numbers only, no asserts.
#
# usage: tests/bench/merge_bench.sh [--quick] [--runs N] [--nsbuild PATH] [--dir DIR]
#   default: 100k files (~400 MB), 5 runs each, growth 10k/100k/300k
#   --quick: 10k files (~40 MB), 3 runs each, growth 1k/10k/30k
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
nsbuild="$here/../../build/bin/nsbuild"
work="${TMPDIR:-/var/tmp}/nsbuild-merge-bench"
files=100000 runs=5 growth=(10000 100000 300000)
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) files=10000 runs=3 growth=(1000 10000 30000) ;;
    --runs) runs="$2"; shift ;;
    --nsbuild) nsbuild="$2"; shift ;;
    --dir) work="$2"; shift ;;
    *) echo "usage: $0 [--quick] [--runs N] [--nsbuild PATH] [--dir DIR]" >&2; exit 2 ;;
  esac
  shift
done
[ -x "$nsbuild" ] || { echo "merge_bench: no nsbuild at $nsbuild (build first)" >&2; exit 2; }
mkdir -p "$work"

image() {  # image N → path, generated once and kept for reruns
  local dir="$work/image-$1"
  [ -d "$dir" ] || { echo "generating $1-file image..." >&2; python3 "$here/gen_merge_image.py" "$dir.tmp" "$1" && mv "$dir.tmp" "$dir"; }
  echo "$dir"
}

seconds() {  # seconds CMD IMAGE → elapsed wall time; the destination is fresh
  local dest="$work/dest" run="$work/run-image" t0 t1
  rm -rf "$dest" "$run"; mkdir "$dest"
  # A copy per run (untimed): a merge empties the image it merged. As a
  # build leaves it: owned by an unprivileged uid, so sealing has real work
  # to do (done before both A and B).
  cp -a --reflink=auto "$2" "$run"
  chown -R 65534:65534 "$run"
  sync
  t0=$(date +%s.%N)
  "$1" "$run" "$dest" >/dev/null 2>"$work/last.err" || { cat "$work/last.err" >&2; exit 1; }
  t1=$(date +%s.%N)
  rm -rf "$dest" "$run"
  echo "$t1 - $t0" | bc -l
}

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.3f", m}'; }

merge_full() { "$nsbuild" merge --package bench --dest "$2" "$1"; }
merge_nohash() { "$nsbuild" merge --no-hash --package bench --dest "$2" "$1"; }
cp_link() { cp --archive --link --no-clobber "$1/." "$2"; }

img=$(image "$files")
echo "image: $files files, $(du -sm --apparent-size "$img" | cut -f1) MB of data ($(du -sm "$img" | cut -f1) MB on disk), $runs runs each, A/B interleaved"
a=() b=() c=()
for i in $(seq "$runs"); do
  if [ $((i % 2)) -eq 1 ]; then
    a+=("$(seconds merge_full "$img")"); b+=("$(seconds cp_link "$img")")
  else
    b+=("$(seconds cp_link "$img")"); a+=("$(seconds merge_full "$img")")
  fi
  c+=("$(seconds merge_nohash "$img")")
done
ma=$(median "${a[@]}") mb=$(median "${b[@]}") mc=$(median "${c[@]}")
echo "nsbuild merge (sha256):   median ${ma}s   runs: ${a[*]}"
echo "nsbuild merge --no-hash:  median ${mc}s   runs: ${c[*]}"
echo "cp --archive --link:      median ${mb}s   runs: ${b[*]}"
echo "ratio merge/cp: $(echo "$ma / $mb" | bc -l | xargs printf '%.2f')  (goal <= 1.00)   no-hash/cp: $(echo "$mc / $mb" | bc -l | xargs printf '%.2f')"

echo "growth (median of 3, nsbuild merge with sha256 | cp):"
for n in "${growth[@]}"; do
  g=$(image "$n") x=() y=()
  for i in 1 2 3; do x+=("$(seconds merge_full "$g")"); y+=("$(seconds cp_link "$g")"); done
  mx=$(median "${x[@]}") my=$(median "${y[@]}")
  echo "  $n files: merge ${mx}s ($(echo "$mx * 1000000 / $n" | bc) us/file)   cp ${my}s"
done
