#!/bin/bash
# Merge benchmark: `nsbuild merge` (seal, checks, journal, database with
# sha256, image emptied afterwards) against `cp --archive --link
# --no-clobber` of the same image into an empty destination, at several
# image sizes. At each size A and B alternate (A first in odd runs), every
# run gets a fresh copy of the image and a fresh destination, and the
# medians and their ratio are printed with the time per file, so growth
# faster than the file count shows. Printed numbers only, no asserts.
#
# usage: tests/bench/merge_bench.sh [options]
#   --sizes "N ..."   file counts (default: 10000 100000 300000 1000000)
#   --runs N          runs per side below 300k files (default 5)
#   --large-runs N    runs per side at 300k files and above (default 3; 1 at
#                     1M unless given: a run there copies 4 GB untimed)
#   --no-hash         also time `nsbuild merge --no-hash` (sha256 skipped)
#   --quick           sizes 1000 10000, 3 runs
#   --nsbuild PATH    the binary (default: $NSBUILD, else build/bin/nsbuild)
#   --dir DIR         work directory (default: ${TMPDIR:-/var/tmp}/nsbuild-merge-bench);
#                     generated images stay there (image-N) for the next run
# NSBUILD_MERGE_TIMES=1 in the environment adds the merger's phase times of
# the last run at each size.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
nsbuild=${NSBUILD:-$here/../../build/bin/nsbuild}
work="${TMPDIR:-/var/tmp}/nsbuild-merge-bench"
sizes=(10000 100000 300000 1000000) runs=5 large_runs=3 large_runs_given=0 nohash=0
while [ $# -gt 0 ]; do
  case "$1" in
    --sizes) read -ra sizes <<<"$2"; shift ;;
    --runs) runs="$2"; shift ;;
    --large-runs) large_runs="$2"; large_runs_given=1; shift ;;
    --no-hash) nohash=1 ;;
    --quick) sizes=(1000 10000) runs=3 ;;
    --nsbuild) nsbuild="$2"; shift ;;
    --dir) work="$2"; shift ;;
    *) sed -n '10,22p' "$0" >&2; exit 2 ;;
  esac
  shift
done
[ -n "$nsbuild" ] && [ -x "$nsbuild" ] || { echo "merge_bench: no nsbuild binary (build first, or --nsbuild)" >&2; exit 2; }
mkdir -p "$work"

image() {  # image N → path, generated once and kept for reruns
  local dir="$work/image-$1"
  [ -d "$dir" ] || { echo "generating $1-file image..." >&2; rm -rf "$dir.tmp"; python3 "$here/gen_merge_image.py" "$dir.tmp" "$1" && mv "$dir.tmp" "$dir"; }
  echo "$dir"
}

# Room for an image of N files (4 KB of data a file on average), its
# per-run copy and the inodes: 2.5 times the data, in KB.
room_for() { [ "$(df --output=avail -k "$work" | tail -1)" -gt $(($1 * 4 * 5 / 2 + 1048576)) ]; }

seconds() {  # seconds CMD IMAGE → elapsed wall time; the destination is fresh
  local dest="$work/dest" run="$work/run-image" t0 t1
  rm -rf "$dest" "$run"; mkdir "$dest"
  # A copy per run (untimed): a merge empties the image it merged. As a
  # build leaves it: owned by an unprivileged uid, so sealing has real work
  # to do (done before both A and B). A real copy, not links: a file linked
  # from outside its image is only listed, never sealed or hashed.
  cp -a --reflink=auto "$2" "$run"
  chown -R 65534:65534 "$run"
  sync
  t0=$(date +%s.%N)
  # stderr kept per command: the phase times shown are the last merge's, not cp's
  "$1" "$run" "$dest" >/dev/null 2>"$work/last-$1.err" || { cat "$work/last-$1.err" >&2; exit 1; }
  t1=$(date +%s.%N)
  rm -rf "$dest" "$run"
  echo "$t1 - $t0" | bc -l
}

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.3f", m}'; }
ratio() { echo "$1 / $2" | bc -l | xargs printf '%.2f'; }
per_file() { echo "$1 * 1000000 / $2" | bc | xargs printf '%5d'; }

merge_full() { "$nsbuild" merge --package bench --dest "$2" "$1"; }
merge_nohash() { "$nsbuild" merge --no-hash --package bench --dest "$2" "$1"; }
cp_link() { cp --archive --link --no-clobber "$1/." "$2"; }

one_size() {  # one_size N
  local n=$1 r=$runs img a=() b=() c=() ma mb mc
  if [ "$n" -ge 300000 ]; then r=$large_runs; fi
  if [ "$n" -ge 1000000 ] && [ "$large_runs_given" = 0 ]; then r=1; fi
  if [ ! -d "$work/image-$n" ] && ! room_for "$n"; then
    echo "$n files: skipped, not enough space in $work ($(df -h --output=avail "$work" | tail -1) free)"
    return
  fi
  img=$(image "$n")
  for i in $(seq "$r"); do
    if [ $((i % 2)) -eq 1 ]; then
      a+=("$(seconds merge_full "$img")"); b+=("$(seconds cp_link "$img")")
    else
      b+=("$(seconds cp_link "$img")"); a+=("$(seconds merge_full "$img")")
    fi
    if [ "$nohash" = 1 ]; then c+=("$(seconds merge_nohash "$img")"); fi
  done
  ma=$(median "${a[@]}") mb=$(median "${b[@]}")
  printf '%8d files  merge %7.3fs (%s us/file)  cp -al %7.3fs (%s us/file)  ratio %s  [%d runs; merge: %s; cp: %s]\n' \
    "$n" "$ma" "$(per_file "$ma" "$n")" "$mb" "$(per_file "$mb" "$n")" "$(ratio "$ma" "$mb")" "$r" "${a[*]}" "${b[*]}"
  if [ "$nohash" = 1 ]; then
    mc=$(median "${c[@]}")
    printf '%8s        merge --no-hash %7.3fs  ratio %s  [%s]\n' "" "$mc" "$(ratio "$mc" "$mb")" "${c[*]}"
  fi
  if [ -n "${NSBUILD_MERGE_TIMES:-}" ]; then sed 's/^/           /' "$work/last-merge_full.err"; fi
}

echo "merge benchmark: $nsbuild, $(nproc) CPUs, $(df --output=fstype "$work" | tail -1) at $work"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for n in "${sizes[@]}"; do one_size "$n"; done
echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)  (goal: ratio <= 1.00 at every size)"
