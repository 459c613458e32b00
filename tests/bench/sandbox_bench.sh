#!/usr/bin/env bash
# Sandbox start-up benchmark: `nsbuild run -- /usr/bin/true` against an
# equivalent bubblewrap command line (same namespaces, ro binds, proc, dev,
# tmpfs) and against the floor, `unshare -Urpfmiun true` (the kernel's
# namespace creation, a fork and an exec, nothing else), all three
# interleaved in the same rounds, medians and ratios, with the load average
# before and after. Goal: ratio to bwrap <= 0.7.
# Then 1,000 sandboxes in a row: the parent's fds, mounts, children stay flat.
#   tests/bench/sandbox_bench.sh [BUILD_DIR] [PAIRS]
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$top/build}
pairs=${2:-200}
# $NSBUILD names another binary (an older build, to compare).
nsbuild=${NSBUILD:-$build/bin/nsbuild}
[ -x "$nsbuild" ] || { echo "no nsbuild binary at $nsbuild (build first)"; exit 2; }
command -v bwrap >/dev/null || { echo "bubblewrap is not installed (apt-get install bubblewrap)"; exit 2; }

# The same view both ways: nsbuild's default policy minus /etc hiding is
# matched by listing the same binds for bwrap.
policy=$(mktemp /tmp/nsbuild-bench-policy.XXXXXX.json)
trap 'rm -f "$policy"' EXIT
cat > "$policy" <<'JSON'
{"sandbox": {"filesystem": {"ro_bind": ["/usr", "/etc"],
  "mirror_links": ["/bin", "/sbin", "/lib", "/lib64"], "tmpfs": ["/tmp"],
  "proc": true, "dev": true}, "network": "loopback"}}
JSON
links=()
for l in bin sbin lib lib64; do
  [ -L /$l ] && links+=(--symlink "$(readlink /$l)" /$l)
done
echo "== nsbuild run vs bwrap vs unshare, $pairs interleaved rounds" \
  "(A = nsbuild, B = bwrap, C = unshare -Urpfmiun)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$build/tests/nsbuild_ab_timer" "$pairs" -- \
  "$nsbuild" run --policy "$policy" -- /usr/bin/true \
  --vs-- "$(command -v bwrap)" --unshare-all --die-with-parent --new-session \
  --ro-bind /usr /usr --ro-bind /etc /etc "${links[@]}" \
  --proc /proc --dev /dev --tmpfs /tmp /usr/bin/true \
  --vs-- "$(command -v unshare)" -Urpfmiun /usr/bin/true
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "(cpu_*: the rusage of what each command's process reaps; bwrap's sandbox init is"
echo " not reaped by it, so cpu_b misses it: perf stat -r 200 counts every process)"
echo "== 1000 sandboxes in a row"
"$build/tests/nsbuild_sandbox_churn" 1000
