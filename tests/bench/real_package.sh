#!/usr/bin/env bash
# The real packages of the benchmarks, from Debian's sources:
#   brotli 1.0.9 (the default): its setup.py builds the whole C library into
#     the Python extension, about 40 C files per implementation;
#   lxml 4.9.2: the package the project descends from; one huge generated
#     etree.c and a few more, for python3.11 and pypy3 (`setup.py build -j`,
#     which does not speak the jobserver: its compilers go through nsbuild-cc).
# Fetched once with `apt-get source` into a cache dir (a deb-src line is
# added when the machine has none), then a recipe beside the tarball is
# printed for nsbuild to build.
#   tests/bench/real_package.sh [CACHE_DIR] [brotli|lxml]  → prints the recipe path
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
source "$top/examples/real/deb_src.sh"
cache=${1:-/var/cache/nsbuild-bench}
package=${2:-brotli}
case $package in
  brotli) tarball=brotli_1.0.9.orig.tar.gz; version=1.0.9-2 ;;
  lxml) tarball=lxml_4.9.2.orig.tar.gz; version=4.9.2-1 ;;
  *) echo "real_package.sh: unknown package $package (brotli, lxml)" >&2; exit 2 ;;
esac
mkdir -p "$cache"
if [ ! -s "$cache/$tarball" ]; then
  nsbuild_ensure_deb_src real_package.sh || exit 1
  (cd "$cache" && apt-get source --download-only "$package=$version" >&2)
fi
[ -s "$cache/$tarball" ] || { echo "real_package.sh: $cache/$tarball was not fetched" >&2; exit 1; }
# brotli keeps the name it always had, so older scripts find it.
recipe=$cache/recipe.json
[ "$package" = brotli ] || recipe=$cache/$package-recipe.json
cp "$top/tests/bench/$package/recipe.json" "$recipe"
chmod -R a+rX "$cache"
echo "$recipe"
