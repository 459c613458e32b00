# Sourced by the build benchmarks: arguments, a scratch dir the sandboxes
# can use, and the timing helpers.
#   bench_args "$@"  → $top $build $rounds and the array recipes (the rest)
bench_args() {
  top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  build=${1:-$top/build}
  rounds=${2:-5}
  shift $(( $# >= 2 ? 2 : $# ))
  recipes=("$@")
  nsbuild=$build/bin/nsbuild
  scratch=$(mktemp -d /tmp/nsbuild-bench.XXXXXX)
  chmod 0755 "$scratch"
  trap 'chmod -R u+rwx "$scratch"; rm -rf "$scratch"' EXIT
}

now() { date +%s.%N; }
median() { sort -g | awk '{v[NR]=$1} END {print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }
