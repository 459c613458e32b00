#!/usr/bin/env bash
# The builder part of the demo: builds the C-extension example for every
# implementation this host has, shows each image importing under its own
# interpreter, and prints the report's summary.
#   examples/build_demo.sh [NSBUILD]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
nsbuild=${1:-$top/build/bin/nsbuild}
work=$(mktemp -d /tmp/nsbuild-build-demo.XXXXXX)
chmod 0755 "$work"
trap 'chmod -R u+rwx "$work"; rm -rf "$work"' EXIT

echo "== nsbuild impls"
"$nsbuild" impls

echo
echo "== nsbuild build examples/cext/recipe.json (every implementation, one job pool)"
"$nsbuild" build "$top/examples/cext/recipe.json" --work-dir "$work/w" \
  --report "$work/report.json" --trace "$work/trace.json" --dest "$work/root"

echo
echo "== the merge emptied each image (no second names of installed files stay behind)"
for image in "$work"/w/targets/*/image; do
  impl=$(basename "$(dirname "$image")")
  printf '%-12s %s\n' "$impl" "$(ls -A "$image" | tr '\n' ' ')-> merged into $(head -n1 "$image/.nsbuild-merged")"
done

echo
echo "== report summary"
python3 - "$work/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"result {r['result']} in {r['wall_seconds']:.1f}s with -j{r['jobs']}; "
      f"jobserver peak {r['jobserver']['peak_tokens_in_use']}/{r['jobs']}; "
      f"builder max RSS {r['builder_max_rss_kib']} KiB")
for s in r["sub_phases"]:
    if "start_seconds" in s:
        print(f"  {s['target']:12s} {s['phase']:9s} {s['state']:7s} "
              f"{s['end_seconds'] - s['start_seconds']:6.2f}s  cpu {s['user_seconds'] + s['sys_seconds']:6.2f}s  "
              f"rss {s['max_rss_kib']} KiB")
for i in r["images"]:
    print(f"  image {i['target']:12s} {i['files']} files, {i['bytes']} bytes")
PY
echo "(--trace wrote Chrome trace events too: one track per implementation in ui.perfetto.dev)"

echo
echo "== merged into $work/root: what the database says, and the extension under each Python"
"$nsbuild" owner /usr/lib/python3/dist-packages/fastsum/__init__.py --dest "$work/root"
for impl in $("$nsbuild" impls | awk 'NR > 1 && $4 == "yes" && $5 == "yes" {print $1}'); do
  printf '%-12s ' "$impl"
  PYTHONPATH="$work/root/usr/lib/python3/dist-packages" "/usr/bin/$impl" -c \
    'import fastsum; print(fastsum.built_for(), fastsum.sum_squares(range(10)))'
done
"$nsbuild" verify-installed fastsum --dest "$work/root"

echo
echo "== nsbuild verify: is the C extension reproducible?"
"$nsbuild" verify "$top/examples/cext/recipe.json" --work-dir "$work/verify" || true
