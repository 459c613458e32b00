#!/bin/bash
# Would io_uring pay for the merger's execute phase (issue #16)? Runs
# nsbuild_uring_link_probe (tests/bench/uring_link_probe.cc) on the merge
# benchmark's images: every directory of the image made and every file
# hard-linked into an empty destination, by path (cp -al's way), from
# checked O_PATH fds (the merger's way), on one thread per CPU, and through
# io_uring (IORING_OP_MKDIRAT and IORING_OP_LINKAT, batched), modes
# interleaved in rounds, medians and ratios to `sync` printed with the CPU
# time (io-wq workers' included) and the load average. With --syscalls,
# each mode's system calls per file too (strace -c -f on one run, less a run
# that only lists the image). Printed numbers only, no asserts. Run as root.
#
# usage: tests/bench/uring_link_probe.sh [options]
#   --sizes "N ..."   image file counts (default: 10000 100000)
#   --rounds N        rounds (default 5)
#   --modes a,b,...   the probe's modes (default: all of them)
#   --syscalls        also count system calls per file (strace -c -f)
#   --probe PATH      the probe (default: build/tests/nsbuild_uring_link_probe)
#   --dir DIR         work directory, shared with merge_bench.sh (default:
#                     ${TMPDIR:-/var/tmp}/nsbuild-merge-bench); images made
#                     there by gen_merge_image.py when missing
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
probe=$here/../../build/tests/nsbuild_uring_link_probe
work="${TMPDIR:-/var/tmp}/nsbuild-merge-bench"
sizes=(10000 100000) rounds=5 modes="" syscalls=0
while [ $# -gt 0 ]; do
  case "$1" in
    --sizes) read -ra sizes <<<"$2"; shift ;;
    --rounds) rounds="$2"; shift ;;
    --modes) modes="$2"; shift ;;
    --syscalls) syscalls=1 ;;
    --probe) probe="$2"; shift ;;
    --dir) work="$2"; shift ;;
    *) sed -n '13,21p' "$0" >&2; exit 2 ;;
  esac
  shift
done
if [ ! -x "$probe" ]; then
  echo "uring_link_probe: $probe is not built. It is built only where liburing is found:" >&2
  echo "  apt-get install -y liburing-dev && cmake -S . -B build && cmake --build build --target nsbuild_uring_link_probe" >&2
  exit 2
fi
[ "$(id -u)" = 0 ] || { echo "uring_link_probe: run as root (links from an fd need CAP_DAC_READ_SEARCH)" >&2; exit 2; }
disabled=$(cat /proc/sys/kernel/io_uring_disabled 2>/dev/null || echo 0)
if [ "$disabled" = 2 ]; then
  echo "uring_link_probe: io_uring is disabled on this machine (kernel.io_uring_disabled=2)" >&2
  exit 2
fi
mkdir -p "$work"
dest="$work/uring-probe-dest"
rm -rf "$dest"

image() {  # image N → path, generated once and kept (as merge_bench.sh does)
  local dir="$work/image-$1"
  [ -d "$dir" ] || { echo "generating $1-file image..." >&2; rm -rf "$dir.tmp"; python3 "$here/gen_merge_image.py" "$dir.tmp" "$1" && mv "$dir.tmp" "$dir"; }
  echo "$dir"
}

# calls MODE IMAGE → "syscall calls" lines of one run under strace -c -f
calls() {
  local out
  out=$(mktemp)
  strace -c -f -o "$out" "$probe" --once "$1" "$2" "$dest" >/dev/null
  rm -rf "$dest"
  awk '$NF != "total" && $NF != "syscall" && $4 ~ /^[0-9]+$/ {print $NF, $4}' "$out"
  rm -f "$out"
}

# Each mode's calls less the listing run's, per file: the total, then the
# syscalls above 0.01 a file.
syscalls_per_file() {  # IMAGE FILES
  local base mode list
  base=$(calls walk "$1")
  list=${modes:-sync,sync-fd,threads,uring-64,uring-256,uring-pipe-256,uring-async-pipe-256,uring-fd-64,uring-fd-256,uring-fd-pipe-256,uring-fd-async-pipe-256}
  echo "system calls per file (strace -c -f of one run, less a run that only lists the image):"
  for mode in ${list//,/ }; do
    { awk '{print "-", $0}' <<<"$base"; calls "$mode" "$1"; } | awk -v files="$2" -v mode="$mode" '
      $1 == "-" {n[$2] -= $3; next} {n[$1] += $2}
      END {
        for (s in n) total += n[s]
        line = sprintf("  %-23s %6.2f:", mode, total / files)
        for (s in n) if (n[s] / files >= 0.01) line = line sprintf(" %s %.2f", s, n[s] / files)
        print line
      }'
  done
}

echo "uring_link_probe: $probe, kernel $(uname -r), $(nproc) CPUs, $(df --output=fstype "$work" | tail -1) at $work, io_uring_disabled=$disabled"
for n in "${sizes[@]}"; do
  img=$(image "$n")
  echo
  "$probe" --rounds "$rounds" ${modes:+--modes "$modes"} "$img" "$dest"
  if [ "$syscalls" = 1 ]; then syscalls_per_file "$img" "$(find "$img" ! -type d | wc -l)"; fi
done
